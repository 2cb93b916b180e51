"""The early cutoff of a warm re-scan: after edits, a cached scan reports exactly what a cold scan reports.

An edit that leaves what a file tells the project as it was (the same summary, or new functions no
call can reach: `summaries.inert_edit`) is re-analysed with the inputs the last run gave it, without
solving the project again (`runner._edits_keep_the_fixpoint`); any other edit solves the project
as before. Either way the findings must equal those of a scan
without a cache, which is what these tests compare, edit after edit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaeaudit.scan import cache as cache_module
from vaeaudit.scan import runner
from vaeaudit.scan.cache import ScanCache
from vaeaudit.scan.runner import scan_files
from vaeaudit.scan.settings import Settings
from vaeaudit.scan.summaries import (
    FileSummary,
    FunctionSummary,
    Inputs,
    inputs_from_json,
    inputs_to_json,
    summary_from_json,
    summary_to_json,
)

PROJECT = Path(__file__).parent / "fixtures" / "project_cross_file"

# (file, text appended): a comment and a new local line leave the summary as it was; a new function does not.
EDITS = [
    ("losses.py", "# a comment\n"),
    # A new finding that only the callers' inputs explain: the cutoff must analyse with them.
    ("losses.py", "\n\ndef radial_loss(embeddings, targets):\n    return torch.norm(embeddings, dim=-1).sum()\n"),
    ("train.py", "\n\ndef added(h):\n    return encode(h)\n"),
    ("train.py", "# another comment\n"),
    ("analysis.py", "\n\ndef spread(points):\n    return points.norm(dim=-1)\n"),
    ("models/encoder.py", "\n# the producer, edited\n"),
    ("geometry_utils.py", "\n\ndef unused(a):\n    return a\n"),
    # Functions that know nothing: the fixpoint holds unless a call of the project names them (`inert_edit`).
    ("analysis.py", "\n\ndef helper_nobody_calls(a, b):\n    return a + b\n"),
    ("geometry_utils.py", "\n\ndef radial_loss(points, targets):\n    return points\n"),
    ("plots.py", "\n\nclass Extra:\n    def encode(self, h):\n        return h\n"),
    # A producer no call names: inert too, unless a file the project left unanalysed names it.
    ("models/encoder.py", "\n\ndef fresh_points(h):\n    return exp_map_zero(h)\n"),
    ("models/__init__.py", "# see fresh_points\n"),
    # Comments alone: kept without parsing from the second edit on (`fingerprint`), unless they hold a word the
    # prefilter looks for (losses.py has none: a cold scan defers it) or a suppression.
    ("losses.py", "# poincare\n"),
    ("train.py", "# noqa: HYP001\n"),
]


def findings(root: Path, *, cache: bool) -> list[tuple]:
    run = scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache_dir=".cache", cache=cache), jobs=1)
    return sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.rule, f.confidence, f.evidence) for f in run.findings)


@pytest.mark.parametrize("trust_stamps", [False, True], ids=["files-read", "stamps-trusted"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(range(len(EDITS))), min_size=1, max_size=5))
def test_a_cached_rescan_after_any_edits_equals_a_cold_scan(tmp_path_factory, monkeypatch, trust_stamps: bool, edits: list[int]) -> None:
    """Stamps trusted at once (in real use only after two seconds): an edit must still be seen by its stamp."""
    if trust_stamps:
        monkeypatch.setattr(cache_module, "RACY_NS", -(10**12))
    root = tmp_path_factory.mktemp("project") / "project"
    shutil.copytree(PROJECT, root)
    findings(root, cache=True)
    for index in edits:
        name, text = EDITS[index]
        with open(root / name, "a", encoding="utf-8") as handle:
            handle.write(text)
        assert findings(root, cache=True) == findings(root, cache=False)


def test_an_edit_that_keeps_the_summary_is_not_solved_but_still_uses_the_callers_inputs(tmp_path: Path, monkeypatch) -> None:
    """`losses.py` gets a second radial norm of `embeddings`: only train.py's call says it holds ball
    points, and the cutoff finds it without solving the project."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    findings(root, cache=True)
    losses = root / "losses.py"
    losses.write_text(
        losses.read_text(encoding="utf-8").replace("    return ((radii", "    print(embeddings.norm(dim=-1))\n    return ((radii"),
        encoding="utf-8",
    )

    def no_solve(_summaries):
        raise AssertionError("solved again")

    expected = findings(root, cache=False)
    monkeypatch.setattr(runner, "solve", no_solve)
    after = findings(root, cache=True)
    assert after == expected
    assert sum(1 for path, *_ in after if path == "losses.py") == 2


def test_without_the_previous_inputs_the_project_is_solved_as_before(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    findings(root, cache=True)
    (stored,) = (root / ".cache").glob("scan-*.inputs")
    assert any(stored.iterdir())  # losses.py's inputs, at least
    shutil.rmtree(stored)
    (root / "losses.py").write_text((root / "losses.py").read_text(encoding="utf-8") + "# edit\n", encoding="utf-8")
    assert findings(root, cache=True) == findings(root, cache=False)


def test_inputs_survive_their_json_with_every_field_filled() -> None:
    """A field added to Inputs but not to its JSON would make the cutoff analyse with less than it was given."""
    fact = (2, ("step one", "step two"), ("module", "ball", "c"))
    inputs = Inputs(
        received={"f": {"x": fact}},
        received_by_name={"Model.g": {"y": fact}},
        external={"pkg.h": FunctionSummary(("a",), fact, {"key": fact}, {"a": fact})},
        curvatures={"f": {"x": ("0.5", "every call passes c=0.5")}},
        state_keys={"model.lt.weight": fact},
        artifacts={"models/emb.pkl": fact},
        stars={"hyplib.layers": {"to_ball": "hyplib.layers.to_ball"}},
    )
    assert all(getattr(inputs, name) for name in Inputs.__dataclass_fields__)
    assert inputs_from_json(inputs_to_json(inputs)) == inputs


def test_inputs_a_result_no_longer_names_are_removed(tmp_path: Path) -> None:
    settings_ = Settings(project_root=tmp_path, cache_dir=".cache")
    cache = ScanCache(settings_)
    first, second = Inputs(received={"f": {"x": (1, ("a",), None)}}), Inputs(received={"f": {"x": (2, ("b",), None)}})
    cache.put(str(tmp_path / "a.py"), "h1", [], None, None, first.digest(), True, first)
    cache.save()
    cache.put(str(tmp_path / "a.py"), "h2", [], None, None, second.digest(), True, second)
    cache.save()
    assert sorted(path.name for path in cache.inputs_folder.iterdir()) == [f"{second.digest()}.json"]
    assert ScanCache(settings_).inputs(second.digest()) == second


def test_a_definition_added_to_a_file_the_scan_does_not_analyse_withdraws_a_method_resolved_by_name(tmp_path: Path) -> None:
    """`cache.cached_points(key)` resolves to the project's only `cached_points`; once a file the scan never
    analyses defines one too, the resolution is withdrawn: the edit changes no analysed summary, but that
    file's text is part of the solution, so the cutoff must not apply."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_untyped_receivers", root)
    unseen = root / "unseen.py"
    original = unseen.read_text(encoding="utf-8")
    unseen.write_text(original.replace("def cached_points", "def other_name"), encoding="utf-8")
    before = findings(root, cache=True)
    assert any(path == "evaluate.py" and line == 26 for path, line, *_ in before)  # resolved: one definer
    unseen.write_text(original, encoding="utf-8")
    after = findings(root, cache=True)
    assert after == findings(root, cache=False)
    assert not any(path == "evaluate.py" and line == 26 for path, line, *_ in after)


def test_file_summaries_survive_their_json_with_every_field_filled() -> None:
    """A field added to FileSummary but not to its JSON would be lost by every cached file."""
    fact = (1, ("step",), None)
    summary = FileSummary(
        "pkg.mod",
        {"Model.__init__": FunctionSummary(("size",), fact, {".lt.weight": fact}, {"size": fact}, "size", "encode")},
        [("pkg.other.f", {"#0": fact})],
        ("pkg.other.f",),
        [("pkg.other.f", {"#0": "1.0"}, "mod.py:3")],
        ("model.lt.weight",),
        ("models/emb.pkl",),
        {"models/emb.pkl": fact},
        ("hyplib.layers",),
        ("to_ball",),
        {"Model": ("pkg.base.Base",)},
    )
    assert all(getattr(summary, name) for name in FileSummary.__dataclass_fields__)
    assert all(getattr(summary.functions["Model.__init__"], name) for name in FunctionSummary.__dataclass_fields__)
    assert summary_from_json(summary_to_json(summary)) == summary


def test_a_new_function_that_knows_nothing_but_shares_a_called_name_solves_the_project_again(tmp_path: Path) -> None:
    """`cache.cached_points(key)` resolves by name to the project's only method so named; a second one, in
    an analysed file, knows nothing yet makes that call ambiguous: the edit is not inert (`inert_edit`)."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_untyped_receivers", root)
    unseen = root / "unseen.py"
    unseen.write_text(unseen.read_text(encoding="utf-8").replace("def cached_points", "def other_name"), encoding="utf-8")
    assert any(path == "evaluate.py" and line == 26 for path, line, *_ in findings(root, cache=True))
    with open(root / "models.py", "a", encoding="utf-8") as handle:
        handle.write("\n\nclass Another:\n    def cached_points(self, key):\n        return key\n")
    after = findings(root, cache=True)
    assert after == findings(root, cache=False)
    assert not any(path == "evaluate.py" and line == 26 for path, line, *_ in after)


def test_a_new_function_in_a_star_imported_module_solves_the_project_again(tmp_path: Path) -> None:
    """model.py calls `radius`, which nothing defines yet; once hyplib/layers.py (star-imported by model.py)
    defines it, the name is bound there and the call passes ball points into it: a finding in layers.py,
    although the new function knows nothing and no call target spelled its name before."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_star_imports", root)
    with open(root / "model.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef later(h):\n    return radius(to_ball(h))\n")
    findings(root, cache=True)
    with open(root / "hyplib" / "layers.py", "a", encoding="utf-8") as handle:
        handle.write("\n\ndef radius(points):\n    return points.norm(dim=-1)\n")
    after = findings(root, cache=True)
    assert after == findings(root, cache=False)
    assert any(path == "hyplib/layers.py" for path, *_ in after)


def test_an_edit_of_a_deferred_file_beside_a_re_solve_leaves_it_unanalysed(tmp_path: Path) -> None:
    """dfile.py holds a Euclidean norm and no ball point (deferred: a cold scan never analyses it), and its nested
    `def depth_of` withdraws the by-name resolution of `depth_of` calls (`withdraw_unseen_calls`). After a comment
    edit, the cutoff analyses it with its last inputs; when the project is solved again it must start from nothing,
    as in a cold scan, or the cached scan reports what a cold one does not (found by review: models.py:31)."""
    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_untyped_receivers", root)
    dfile = root / "dfile.py"
    dfile.write_text(
        "import numpy as np\n\n\ndef factory():\n    def depth_of(a):\n        return np.linalg.norm(a)\n    return depth_of\n"
    )
    findings(root, cache=True)
    with open(dfile, "a", encoding="utf-8") as handle:
        handle.write("# a comment\n")
    assert findings(root, cache=True) == findings(root, cache=False)


def test_a_comment_in_a_notebook_beside_a_re_solve_keeps_it_unanalysed(tmp_path: Path) -> None:
    """A notebook is never part of the project's summaries (a cold scan keeps it unanalysed); its `def
    latent_points` withdraws the by-name resolution of that method. A comment in one of its cells must not
    change that (found by review: the cutoff left it without a summary, so the cached scan reported more)."""
    import json

    root = tmp_path / "project"
    shutil.copytree(Path(__file__).parent / "fixtures" / "project_untyped_receivers", root)
    source = ["import geoopt\n", "ball = geoopt.PoincareBall()\n", "\n", "class Local:\n", "    def latent_points(self, x):\n"]
    cell = {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": [*source, "        return ball.expmap0(x)\n"],
    }
    notebook = root / "nb.ipynb"
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")

    def with_notebook(cache: bool) -> list[tuple]:
        run = scan_files(sorted([*root.rglob("*.py"), notebook]), Settings(project_root=root, cache_dir=".cache", cache=cache), jobs=1)
        return sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.rule) for f in run.findings)

    with_notebook(cache=True)
    cell["source"].append("# a comment\n")
    notebook.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    assert with_notebook(cache=True) == with_notebook(cache=False)


def scanned(root: Path) -> tuple[list[tuple], int]:
    """(findings as `findings` shows them, files parsed) of a cached scan."""
    run = scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache_dir=".cache", cache=True), jobs=1)
    return sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.rule, f.confidence, f.evidence) for f in run.findings), run.parsed


@pytest.mark.parametrize(
    ("old", "new", "parsed"),
    [
        ("# expect: HYP001", "# expect: HYP001 (edited)", 0),  # a comment the analysis does not read: nothing parsed
        ("# expect: HYP001", "# noqa: HYP001", 1),  # a suppression
        ("torch.norm(embeddings, dim=-1)", "torch.norm(  # a note\n        embeddings, dim=-1)", 1),  # lines move
    ],
    ids=["comment", "noqa", "lines-moved"],
)
def test_an_edit_of_comments_alone_keeps_the_last_result_without_parsing(tmp_path: Path, old: str, new: str, parsed: int) -> None:
    """The first edit of a file after a cold scan is analysed (its fingerprint is taken then); a second edit
    that changes only what the analysis does not read (`fingerprint`) keeps the result, the rest do not."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    losses = root / "losses.py"
    scanned(root)
    losses.write_text(losses.read_text(encoding="utf-8") + "# first edit\n", encoding="utf-8")
    assert scanned(root)[1] == 1
    losses.write_text(losses.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    after, parsed_after = scanned(root)
    assert after == findings(root, cache=False)
    assert parsed_after == parsed
    assert scanned(root) == (after, 0)


def test_a_comment_inside_the_brackets_of_a_ball_point_is_seen_in_the_evidence(tmp_path: Path) -> None:
    """The evidence spells the producer's text, comments inside its brackets included: such a comment is read."""
    root = tmp_path / "project"
    root.mkdir()
    source = "import geoopt\nimport torch\n\nball = geoopt.PoincareBall()\n\n\ndef f(x):\n    z = ball.expmap0(  # first\n        x)\n    return torch.norm(z, dim=-1)\n"
    model = root / "model.py"
    model.write_text(source, encoding="utf-8")
    scanned(root)
    model.write_text(source + "# taking the fingerprint\n", encoding="utf-8")
    scanned(root)
    model.write_text(source.replace("# first", "# second"), encoding="utf-8")
    (finding,) = scanned(root)[0]
    assert "# second" in finding[-1][0]


def test_a_comment_that_holds_the_only_word_of_a_ball_point_is_read(tmp_path: Path) -> None:
    """run.py is analysed only for its comment's word (the prefilter's triage): without it, a cold scan skips the
    file, so its call no longer tells stats.py that `points` are ball points. The fingerprint keeps the triage."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "models.py").write_text("import geoopt\n\nball = geoopt.PoincareBall()\n\n\ndef encode(x):\n    return ball.expmap0(x)\n")
    (root / "stats.py").write_text("import torch\n\n\ndef radius(points):\n    return torch.norm(points, dim=-1)\n")
    run = root / "run.py"
    source = "from models import encode\nfrom stats import radius\n\n\ndef main(x):\n    return radius(encode(x))\n"
    run.write_text("# poincare ball\n" + source, encoding="utf-8")
    assert scanned(root)[0]
    run.write_text("# poincare ball, 2-d\n" + source, encoding="utf-8")
    assert scanned(root)[0]
    run.write_text("# a 2-d model\n" + source, encoding="utf-8")
    assert scanned(root)[0] == findings(root, cache=False) == []


def project_of(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def edited_twice(root: Path, name: str, first: str, second: str) -> list[tuple]:
    """Scan, edit `name` (its analysis takes the fingerprint), scan, edit it again: the cached findings after the
    second edit, checked equal to a cold scan's."""
    scanned(root)
    (root / name).write_text(first, encoding="utf-8")
    scanned(root)
    (root / name).write_text(second, encoding="utf-8")
    after = scanned(root)[0]
    assert after == findings(root, cache=False)
    return after


def test_a_formula_in_a_comment_makes_no_function_a_distance(tmp_path: Path) -> None:
    """HYP005's reading of a hand-written distance (`rules.hyp005._statements`) skips comments: a comment spelling
    the Poincaré distance made `disk_distance` consume its points, so a comment edit changed the findings
    (found by review)."""
    source = "import geoopt\nimport numpy as np\n\nball = geoopt.PoincareBall()\n\n\ndef disk_distance(u, v):\n{comment}"
    source += "    return np.abs(u - v).sum()\n\n\n"
    source += "def novelty_radius(xq, anchor):\n    d = disk_distance(xq, anchor)\n    return d, np.linalg.norm(xq) > 0.85\n"
    formula = "    # d(u, v) = arcosh(1 + 2*|u - v|^2 / ((1 - |u|^2) * (1 - |v|^2)))\n"
    root = project_of(tmp_path, {"geo.py": source.format(comment="    # the distance\n")})
    assert edited_twice(root, "geo.py", source.format(comment="    # the distance (edited)\n"), source.format(comment=formula)) == []


def test_a_long_comment_line_that_has_deep_statements_masked_is_read(tmp_path: Path) -> None:
    """A line of 1,000 characters, a comment's too, has the file looked at for statements too deep to parse
    (`depth.may_mask`): the finding inside a 110-term sum gives way to a warning (found by review)."""
    names = ", ".join(f"w{i}" for i in range(110))
    terms = " +\n        ".join(f"w{i}" for i in range(110))
    source = f"import geoopt\nimport torch\n\nball = geoopt.PoincareBall()\n\n\ndef radius(x, {names}):\n"
    source += f"    z = ball.expmap0(x)\n    total = (\n        torch.norm(z, dim=-1) + {terms}\n    )\n    return total\n"
    root = project_of(tmp_path, {"model.py": source})
    assert edited_twice(root, "model.py", source + "# a note\n", source + "# " + "x" * 1200 + "\n") == []


def test_a_comment_in_a_file_the_project_leaves_unanalysed_is_read(tmp_path: Path) -> None:
    """notes.py is deferred and stays unanalysed; the project reads its text (`withdraw_unseen_calls`: a name there
    withdraws the curvature every seen call proves). Its first edit was analysed by the cutoff, which then solved
    again and left it unanalysed: its fingerprint must not be kept (found by review)."""
    notes = "# a note\n\n\ndef size(values):\n    return len(values)  # not a norm\n"
    root = project_of(
        tmp_path,
        {
            "helpers.py": "def radius(emb):\n    return emb.norm(dim=-1)\n",
            "train.py": "import geoopt\n\nfrom helpers import radius\n\n\ndef main(mu):\n    ball = geoopt.PoincareBall(c=0.5)\n"
            "    return radius(ball.expmap0(mu))\n",
            "notes.py": notes,
        },
    )
    edited_twice(root, "notes.py", notes + "# edit\n", notes.replace("# a note", "# radius") + "# edit\n")
    run = scan_files(sorted(root.rglob("*.py")), Settings(project_root=root, cache_dir=".cache"), jobs=1)
    (finding,) = run.findings
    assert finding.fix is not None and finding.fix.curvature is None
