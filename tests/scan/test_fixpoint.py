"""The project-wide fixpoint ends, and a warm run over an unchanged project does not solve it again."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from vaeaudit.scan import runner
from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import Settings

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    # A helper module with nothing the prefilter looks for, which the training code calls into.
    (root / "plain.py").write_text("def describe(value):\n    return str(value)\n", encoding="utf-8")
    (root / "report.py").write_text(
        "from models.encoder import encode\nfrom plain import describe\n\n\ndef show(h):\n    return describe(encode(h))\n",
        encoding="utf-8",
    )
    return root


def scan(root: Path):
    return scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache_dir=".cache"), jobs=1)


def test_a_file_that_holds_nothing_to_analyse_is_looked_at_once_per_change_of_inputs(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    seen: Counter[str] = Counter()
    scan_one = runner._scan_one

    def counting(name, *args, **kwargs):
        seen[Path(name).name] += 1
        return scan_one(name, *args, **kwargs)

    monkeypatch.setattr(runner, "_scan_one", counting)
    scan(root)
    # Before: `plain.py` was wanted by its caller but never "analysed" (the prefilter skips it),
    # so every round handed it to the workers again, up to the round limit.
    assert seen["plain.py"] <= 2
    assert max(seen.values()) < runner._MAX_ROUNDS


def test_a_warm_run_over_unchanged_files_reuses_the_fixpoint_without_solving(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    # A deferred file nothing passes ball points (left unanalysed) that names `spread_of` in a comment.
    (root / "notes.py").write_text("import numpy as np\n\n\ndef spread(x):\n    return np.linalg.norm(x)  # see spread_of\n")
    cold = scan(root)

    def no_solve(_summaries):
        raise AssertionError("an unchanged project was solved again")

    monkeypatch.setattr(runner, "solve", no_solve)
    warm = scan(root)
    assert warm.parsed == 0 and warm.cached == len(warm.results)
    assert [(f.path, f.line, f.rule, f.evidence) for f in warm.findings] == [(f.path, f.line, f.rule, f.evidence) for f in cold.findings]
    # An edit that leaves the file's summary as it was keeps the fixpoint: still no solve.
    encoder = root / "models" / "encoder.py"
    encoder.write_text(encoder.read_text() + "\n", encoding="utf-8")
    edited = scan(root)
    assert edited.parsed == 1
    assert [(f.path, f.line, f.rule, f.evidence) for f in edited.findings] == [(f.path, f.line, f.rule, f.evidence) for f in cold.findings]
    # A helper that knows nothing and that no call of the project names tells the project nothing new: no solve.
    encoder.write_text(encoder.read_text() + "\n\ndef added(x):\n    return x\n", encoding="utf-8")
    assert scan(root).parsed == 1
    # So does a new producer of ball points that no call of the project names, nor any file it left unanalysed.
    text = encoder.read_text()
    encoder.write_text(text + "\n\ndef again(h):\n    return exp_map_zero(h)\n", encoding="utf-8")
    assert scan(root).parsed == 1
    encoder.write_text(text, encoding="utf-8")
    assert scan(root).parsed == 1
    # Edits that change what the file tells the project mean the project is solved again: a producer that an
    # unanalysed file names (a cold scan analyses it: `_deferred_callers`), and a function whose name a call of
    # the project spells (train.py calls `tangent_loss`).
    for function in ("def spread_of(h):\n    return exp_map_zero(h)\n", "def tangent_loss(x):\n    return x\n"):
        text = encoder.read_text()
        encoder.write_text(text + "\n\n" + function, encoding="utf-8")
        with pytest.raises(AssertionError, match="solved again"):
            scan(root)
        encoder.write_text(text, encoding="utf-8")


def test_after_a_change_that_tells_nobody_anything_new_only_that_file_is_looked_at(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": ["z = encode(h)\n", "r = z.norm()\n"]}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (root / "explore.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
    files = sorted([*root.rglob("*.py"), root / "explore.ipynb"])
    settings = Settings(project_root=root, cache_dir=".cache")
    scan_files(files, settings, jobs=1)
    encoder = root / "models" / "encoder.py"
    encoder.write_text(encoder.read_text() + "# a comment changes no summary\n", encoding="utf-8")
    seen: list[str] = []
    scan_one = runner._scan_one

    def recording(name, *args, **kwargs):
        seen.append(Path(name).name)
        return scan_one(name, *args, **kwargs)

    monkeypatch.setattr(runner, "_scan_one", recording)
    scan_files(files, settings, jobs=1)
    # Before: the notebook and the files the prefilter skips were looked at again after any change.
    assert seen == ["encoder.py"]


def test_the_fixpoint_compares_facts_not_the_words_of_their_evidence() -> None:
    """Evidence that goes round a cycle of calls between files can be worded differently at every round; the
    rounds stop when the facts (where, how confident, on which manifold) stop changing."""
    from vaeaudit.scan.settings import HIGH, MEDIUM
    from vaeaudit.scan.summaries import Inputs

    first = Inputs(received={"route": {"coordinates": (HIGH, ("coordinates <- argument of route(a) (a.py:1)",), None)}})
    reworded = Inputs(received={"route": {"coordinates": (HIGH, ("coordinates <- argument of route(b) (b.py:9)", "b <- c"), None)}})
    weaker = Inputs(received={"route": {"coordinates": (MEDIUM, ("coordinates <- argument of route(a) (a.py:1)",), None)}})
    elsewhere = Inputs(received={"route": {"graph": (HIGH, ("graph <- argument of route(a) (a.py:1)",), None)}})
    assert first.digest() == reworded.digest()
    assert len({first.digest(), weaker.digest(), elsewhere.digest()}) == 3


def test_a_star_import_that_reaches_no_module_does_not_block_the_cutoff(tmp_path: Path, monkeypatch) -> None:
    """`from main import *` names no module when two files are `main.py` (the import is ambiguous, `solve` binds
    nothing from it): a helper added to one of them is still an edit no other file sees."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.py").write_text(
            "from geoopt import PoincareBall\n\n\ndef radius(h):\n    return PoincareBall().expmap0(h).norm(dim=-1)\n", encoding="utf-8"
        )
    (tmp_path / "user.py").write_text(
        "from geoopt import PoincareBall\nfrom main import *\n\n\ndef run(h):\n    return radius(PoincareBall().expmap0(h))\n",
        encoding="utf-8",
    )
    cold = scan(tmp_path)

    def no_solve(_summaries):
        raise AssertionError("solved again")

    monkeypatch.setattr(runner, "solve", no_solve)
    edited = tmp_path / "a" / "main.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n\ndef helper(x):\n    return x\n", encoding="utf-8")
    assert [(f.path, f.line) for f in scan(tmp_path).findings] == [(f.path, f.line) for f in cold.findings]


def test_a_deferred_file_is_analysed_when_it_can_call_a_producer_by_its_name(tmp_path: Path, monkeypatch) -> None:
    """A deferred file (a Euclidean operation, no ball-point word) that can call a function returning ball points is
    analysed (`_deferred_callers`): a module's function or class once the file spells its module, as an import does;
    a method by its name after a dot. A class's `__init__` is reached through the class, and no call reaches `_`:
    waking every file that merely named one (a class's `__init__`, a parameter `latent`) analysed thousands of files
    of the benchmark repositories for nothing."""
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "models" / "encoder.py").write_text(
        "import geoopt\n\nball = geoopt.PoincareBall()\n\n\nclass Encoder:\n    def __init__(self, x):\n        self.z = ball.expmap0(x)\n\n"
        "    def latent(self, x):\n        return ball.expmap0(x)\n\n\ndef embed_points(x):\n    return ball.expmap0(x)\n\n\n"
        "def _(x):\n    return ball.expmap0(x)\n"
    )
    deferred = {
        "uses.py": "import torch\n\nfrom models.encoder import embed_points\n\n\ndef radius(x):\n    return torch.norm(embed_points(x), dim=-1)\n",
        "latents.py": "import torch\n\n\ndef radius(model, x):\n    return torch.norm(model.latent(x), dim=-1)\n",
        "lookalike.py": "import numpy as np\n\n\ndef embed_points(rows):\n    return np.linalg.norm(rows, axis=-1)\n",
        "own_latent.py": "import numpy as np\n\n\ndef spread(rows, latent=None):\n    return np.linalg.norm(rows, axis=-1)\n",
        "table.py": "import numpy as np\n\n\nclass Table:\n    def __init__(self, rows):\n        self.rows = rows\n\n"
        "    def spread(self):\n        return [np.linalg.norm(row) for _ in range(2) for row in self.rows]\n",
    }
    for name, text in deferred.items():
        (root / name).write_text(text)
    analysed: Counter[str] = Counter()
    scan_one = runner._scan_one

    def counting(name, *args, **kwargs):
        outcome = scan_one(name, *args, **kwargs)
        analysed[Path(name).name] += outcome[1]
        return outcome

    monkeypatch.setattr(runner, "_scan_one", counting)
    run = scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache=False), jobs=1)
    assert {Path(finding.path).name for finding in run.findings} == {"uses.py", "latents.py"}
    assert analysed["uses.py"] and analysed["latents.py"]
    assert not analysed["lookalike.py"] and not analysed["table.py"] and not analysed["own_latent.py"]


def test_a_new_producer_method_of_a_class_an_unanalysed_file_names_solves_the_project_again(tmp_path: Path, monkeypatch) -> None:
    """A cold scan wakes a deferred file that imports a class once the class has a method returning ball points
    (`_deferred_callers`), so the early cutoff must not call such an edit inert: it looks for the class's name in
    the unanalysed files, not only the method's (found by reading the change)."""
    root = tmp_path / "project"
    root.mkdir()
    models = "import geoopt\n\nball = geoopt.PoincareBall()\n\n\nclass Encoder:\n    def size(self, x):\n        return ball.expmap0(x).shape[-1]\n{method}"
    (root / "models.py").write_text(models.format(method=""))
    (root / "notes.py").write_text("import numpy as np\n\nfrom models import Encoder\n\n\ndef spread(rows):\n    return np.linalg.norm(rows)\n")
    scan(root)
    (root / "models.py").write_text(models.format(method="\n    def latent(self, x):\n        return ball.expmap0(x)\n"))

    def no_solve(_summaries):
        raise AssertionError("solved again")

    with monkeypatch.context() as patched:
        patched.setattr(runner, "solve", no_solve)
        with pytest.raises(AssertionError, match="solved again"):
            scan(root)
