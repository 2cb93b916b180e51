"""Files on disk that carry ball points from one script to another.

Research code saves its embeddings once (`pickle.dump(emb, open("models/hgcn_embeddings.pkl", "wb"))`)
and reads them back in many analysis scripts, demos and tests. One of those may prove what the file
holds (it passes the loaded vectors to `poincare_distance`); the others only take their "radius"
with `np.linalg.norm`. A load names its file by a string literal, given to the loader or to the
`open` it reads from; that path, relative as written, is the artifact's name across the project
(`summaries.solve` hands a proof to every file that loads the same path).
"""

from __future__ import annotations

import posixpath

import libcst as cst

from vaeaudit.scan.names import ImportMap

# Loaders that return what was saved (qualified names, as `ImportMap.qualify` spells them).
_LOADERS = frozenset({"pickle.load", "torch.load", "numpy.load", "joblib.load", "dill.load"})


def opened_path(value: cst.BaseExpression | None) -> str | None:
    """The file `open("models/emb.pkl", "rb")` opens, by its literal path; None for anything else."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "open":
        return _literal_path(value)
    return None


def loaded_path(call: cst.Call, imports: ImportMap, opened: dict[str, str]) -> str | None:
    """The artifact a loader call reads: a literal path (`torch.load("run/emb.pt")`), an inline `open(...)`,
    or a name bound to one (`with open(path_literal, "rb") as f: pickle.load(f)`)."""
    if imports.qualify(call.func) not in _LOADERS or not call.args:
        return None
    source = call.args[0].value
    if isinstance(source, cst.Name):
        return opened.get(source.value)
    return opened_path(source) or _literal_path(call)


def _literal_path(call: cst.Call) -> str | None:
    first = call.args[0].value if call.args else None
    if not isinstance(first, cst.SimpleString):
        return None
    text = first.evaluated_value
    if not isinstance(text, str) or not text.strip():
        return None
    # `./models/x.pkl`, `../models/x.pkl` and `models/x.pkl` are one file seen from scripts in different folders
    parts = [part for part in posixpath.normpath(text.replace("\\", "/")).split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or None
