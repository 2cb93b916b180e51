"""Injected bugs: mutate correct hyperbolic call sites the way real mistakes look, then scan.

    .venv/bin/python bench/realworld/inject.py [CHECKOUTS] [--out DIR] [--seed 9] [--repo OWNER/NAME]
                                               [--max-per-file 3] [--json] [--keep]

Expert repositories have few real bugs, so recall is measured on bugs we put there ourselves.
The script copies every checkout (default bench/realworld/checkouts/, made by checkout.py) into a
temporary folder (or --out DIR, which must be empty or absent; nothing else is written), finds
*correct* call sites of hyperbolic distances on the Poincare ball / stereographic model —

    manifold.dist0(z)  dist0(z)  hyp_dist_o(z)                       (a radius: "point" site)
    manifold.dist(x, y)  sqdist(x, y, c)  poincare_distance(x, y)     (a distance: "pair" site)
    pmath.dist_matrix(x, y)  manifold.cdist(x, y)                     (all pairs: "pairwise" site)

(outside the functions that implement them, outside Euclidean / spherical / Lorentz / SPD /
Siegel / Stiefel code) — and rewrites a seeded random selection of them with one pattern each:

  A  direct: dist0(z) -> z.norm(dim=-1); dist(x, y) -> (x - y).norm(dim=-1) | torch.cdist(x, y)
     | ((x - y) ** 2).sum(dim=-1) for squared distances; dist_matrix(x, y) -> torch.cdist(x, y)
  B  through a helper: same file (`def _radius_N(emb): return emb.norm(dim=-1)` placed after the
     imports, called with the ball point) or another module (a new sibling file, imported)
  C  through a container: a dict built just before the statement (`store = {"z": z}` ...
     `store["z"].norm(dim=-1)`) or a helper's return value (`return out["z_hyp"]`)
  D  a Euclidean mean: `centroid = z.mean(dim=0)` ... `centroid.norm(dim=-1)` or
     `(x - centroid).norm(dim=-1)` with `centroid = y.mean(dim=0)`
  E  a helper whose docstring documents its parameter as points on the Poincare ball (the helper
     is also called with the ball point, so argument propagation can find it too)
  F  numpy / scipy: np.linalg.norm(z.detach().cpu().numpy(), axis=-1),
     scipy.spatial.distance.cdist(...), np.sqrt(((x - y) ** 2).sum(-1)) on numpy copies

Each mutation is recorded (repo, file, line of the Euclidean call in the mutated tree, pattern,
variant, original call) in DIR/manifest.json. Then the installed scanner runs on every mutated
copy: an injected bug is *found* when a finding is reported at its file and line. The script prints
the found fraction per pattern and variant, in total and per repository, plus the findings of the
scanner on the unmutated checkouts (precision control: each is a false positive unless labeled
bug in labels/) and the findings on mutated copies away from injected lines.
Deterministic for a given seed and checkouts. The temporary folder is removed unless --keep/--out.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import random
import re
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CHECKOUTS,
    add_scanner_argument,
    checkout_dir,
    internal_errors,
    iter_py_files,
    load_repos,
    repo_slug,
    run_scanner,
    use_scanner_argument,
)

POINT_NAMES = {"dist0", "hyp_dist_o"}
PAIR_NAMES = {"dist", "sqdist", "dist2", "poincare_distance", "poincare_distance_c"}
PAIRWISE_NAMES = {"dist_matrix", "cdist"}
SQUARED_NAMES = {"sqdist", "dist2"}
# Code where a Euclidean distance is right, or whose points are not on the ball.
EXCLUDE_WORDS = (
    "eucl",
    "sphere",
    "spheric",
    "spd",
    "symmetric",
    "siegel",
    "stiefel",
    "birkhoff",
    "lorentz",
    "hyperboloid",
    "product",
    "upper_half",
    "bounded_domain",
    "complex",
)
# Receivers whose dist/cdist is Euclidean already (torch.cdist, np..., super().dist()).
RECEIVER_SKIP = {"torch", "np", "numpy", "scipy", "F", "sklearn"}
IMPL_FUNC = re.compile(r"^_?(sq)?dist\d?$|^_?cdist$|^_?dist_matrix$|^_?poincare_distance|^_?dist0$")
SIMPLE_STMTS = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return, ast.Expr)
PATTERNS = "ABCDEF"
# Calls that consume or produce ball points: when an argument of the mutated site also meets one of
# these elsewhere in the same function, the evidence that it is a ball point survives the mutation.
HYP_VOCAB = {
    "expmap0",
    "expmap",
    "logmap0",
    "logmap",
    "mobius_add",
    "mobius_scalar_mul",
    "mobius_matvec",
    "mobius_pointwise_mul",
    "project",
    "projx",
    "proj",
    "proj_",
    "dist",
    "dist0",
    "dist2",
    "sqdist",
    "poincare_distance",
    "poincare_distance_c",
    "dist_matrix",
    "cdist",
    "hyp_dist_o",
    "random",
    "random_normal",
    "wrapped_normal",
    "geodesic",
    "geodesic_unit",
    "retr",
    "transp",
    "ptransp",
    "lambda_x",
    "egrad2rgrad",
    "gyration",
    "mobius_mul",
    "expmap_polar",
    "exp_map",
    "exp_map_mu0",
    "inverse_exp_map",
    "inverse_exp_map_mu0",
    "to_poincare",
    "to_poincare_ball",
    "ManifoldTensor",
    "ManifoldParameter",
}


@dataclass
class Site:
    repo: str
    path: str  # relative to the checkout
    kind: str  # point | pair | pairwise
    name: str  # callee name
    lineno: int
    col: int
    end_lineno: int
    end_col: int
    args: list[str]  # source text of the point argument(s)
    stmt_lineno: int
    indent: str
    func: str  # enclosing function qualname ("<module>" at top level)
    original: str = ""
    evidence: tuple[tuple[int, int], ...] = ()  # (line, col) of the other ball consumers/producers its arguments meet


@dataclass
class Mutation:
    id: int
    repo: str
    pattern: str
    variant: str
    site_path: str
    site_line: int  # line of the original call in the unmutated file
    original: str
    replacement: str
    bug_path: str = ""  # file holding the Euclidean call, relative to the repo copy
    bug_line: int = 0  # its line in the mutated tree
    evidence_left: bool = False
    found: bool = False
    findings_at_line: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- site discovery


def _callee(func: ast.expr) -> tuple[str | None, str]:
    if isinstance(func, ast.Attribute):
        return func.attr, ast.unparse(func.value)
    if isinstance(func, ast.Name):
        return func.id, ""
    return None, ""


def _point_args(call: ast.Call, n: int) -> list[ast.expr] | None:
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    args = list(call.args[:n])
    kw = {k.arg: k.value for k in call.keywords if k.arg}
    for key in ("x", "y")[len(args) : n]:
        if key in kw:
            args.append(kw[key])
    return args if len(args) == n else None


def _ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]):
    while node in parents:
        node = parents[node]
        yield node


def _root_names(expr: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _is_hyp_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _callee(node.func)[0] in HYP_VOCAB


# The evidence position of an argument that holds a hyperbolic call itself: it survives any rewrite of the site.
_IN_THE_ARGUMENT = (0, 0)


def _evidence(site: ast.Call, args: list[ast.expr], scope: ast.AST) -> tuple[tuple[int, int], ...]:
    """Where an argument of SITE stays visibly a ball point once SITE is rewritten, as (line, col) of the
    hyperbolic calls (HYP_VOCAB) that show it: the argument holds one itself, or one of its names is passed
    to / assigned from one in the same function (or module). A call that is itself rewritten in the same
    copy shows nothing any more (`inject_repo` leaves those out)."""
    if any(_is_hyp_call(n) for a in args for n in ast.walk(a)):
        return (_IN_THE_ARGUMENT,)
    names = set().union(*(_root_names(a) for a in args)) - {"self"}
    inside_site = {id(n) for n in ast.walk(site)}
    found: list[tuple[int, int]] = []
    for node in ast.walk(scope):
        if id(node) in inside_site:
            continue
        if _is_hyp_call(node):
            used = (
                set().union(*(_root_names(a) for a in [*node.args, *(k.value for k in node.keywords)]))
                if (node.args or node.keywords)
                else set()
            )
            if names & used:
                found.append((node.lineno, node.col_offset))
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and any(_is_hyp_call(n) for n in ast.walk(node.value)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if names & set().union(*(_root_names(t) for t in targets)):
                found.extend((n.lineno, n.col_offset) for n in ast.walk(node.value) if _is_hyp_call(n))
    return tuple(found)


def find_sites(repo: str, folder: Path) -> list[Site]:
    sites: list[Site] = []
    for file in iter_py_files(folder):
        rel = file.relative_to(folder).as_posix()
        if any(w in rel.lower() for w in EXCLUDE_WORDS):
            continue
        source = file.read_text(encoding="utf-8", errors="replace")
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        lines = source.splitlines()
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name, receiver = _callee(node.func)
            if name in POINT_NAMES:
                kind, n = "point", 1
            elif name in PAIR_NAMES:
                kind, n = "pair", 2
            elif name in PAIRWISE_NAMES and receiver:
                kind, n = "pairwise", 2
            else:
                continue
            if any(w in receiver.lower() for w in EXCLUDE_WORDS):
                continue
            if receiver.split(".")[0] in RECEIVER_SKIP or receiver.startswith("super"):
                continue
            args = _point_args(node, n)
            if args is None:
                continue
            # Walk up to the statement; reject lambdas, comprehensions, f-strings, compound heads.
            cur: ast.AST = node
            stmt = None
            funcs: list[str] = []
            ok = True
            while cur in parents:
                cur = parents[cur]
                if isinstance(cur, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr)):
                    ok = False
                if stmt is None and isinstance(cur, ast.stmt):
                    stmt = cur
                if isinstance(cur, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    funcs.append(cur.name)
            if not ok or stmt is None or not isinstance(stmt, SIMPLE_STMTS):
                continue
            # funcs[0] is the innermost function: skip the implementations of the distances themselves.
            if any(IMPL_FUNC.match(f) for f in funcs[:1]) or any(w in f.lower() for f in funcs for w in EXCLUDE_WORDS):
                continue
            line = lines[stmt.lineno - 1]
            indent = line[: stmt.col_offset]
            if indent.strip():
                continue  # statement does not start its line (e.g. after `;`)
            if node.end_lineno is None or node.end_col_offset is None:
                continue
            end_line = lines[node.end_lineno - 1].rstrip()
            if end_line.endswith("\\"):
                continue
            scope = next((c for c in _ancestors(node, parents) if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef))), tree)
            evidence = _evidence(node, args, scope)
            texts = [ast.get_source_segment(source, a) or ast.unparse(a) for a in args]
            if any("\n" in t for t in texts):
                texts = [ast.unparse(a) for a in args]
            sites.append(
                Site(
                    repo=repo,
                    path=rel,
                    kind=kind,
                    name=name or "",
                    lineno=node.lineno,
                    col=node.col_offset,
                    end_lineno=node.end_lineno,
                    end_col=node.end_col_offset,
                    args=texts,
                    stmt_lineno=stmt.lineno,
                    indent=indent,
                    func=".".join(reversed(funcs)) or "<module>",
                    original=ast.get_source_segment(source, node) or ast.unparse(node),
                    evidence=evidence,
                )
            )
    return sites


# --------------------------------------------------------------------------- mutation builders


def _p(text: str) -> str:
    """Parenthesise an argument unless it is a plain name, attribute or simple subscript."""
    return text if re.fullmatch(r"[\w.]+(\[[^\[\]]*\])?", text) else f"({text})"


@dataclass
class Plan:
    """What one mutation does to its file (and possibly a new sibling module)."""

    expr: str  # replaces the call
    expr_has_bug: bool = True  # the Euclidean call is in expr (else in a helper)
    before_stmt: list[str] = field(default_factory=list)  # lines inserted before the statement
    helper: list[str] = field(default_factory=list)  # module-level lines placed after the imports
    helper_bug_offset: int = -1  # index in helper of the line holding the Euclidean call
    imports: list[str] = field(default_factory=list)  # top-level imports needed
    module_name: str = ""  # B across files: new sibling module
    module_lines: list[str] = field(default_factory=list)
    module_bug_offset: int = -1


def plan_mutation(site: Site, pattern: str, n: int, rng: random.Random, package: bool) -> tuple[str, Plan]:
    x = _p(site.args[0])
    y = _p(site.args[1]) if len(site.args) > 1 else ""
    point, pairwise = site.kind == "point", site.kind == "pairwise"
    sq = site.name in SQUARED_NAMES
    if pattern == "A":
        if point:
            return "norm", Plan(f"{x}.norm(dim=-1)")
        if pairwise:
            return "cdist", Plan(f"torch.cdist({x}, {y})", imports=["import torch"])
        if sq:
            return "sq-diff", Plan(f"(({x} - {y}) ** 2).sum(dim=-1)")
        variant = rng.choice(["diff-norm", "cdist"])
        if variant == "cdist":
            return variant, Plan(f"torch.cdist({x}, {y})", imports=["import torch"])
        return variant, Plan(f"({x} - {y}).norm(dim=-1)")
    if pattern == "B":
        variant = rng.choice(["same-file", "other-module"])
        if point:
            body = [f"def radius_{n}(emb):", "    return emb.norm(dim=-1)"]
            call = f"radius_{n}({site.args[0]})"
        elif pairwise:
            body = [f"def pairwise_{n}(a, b):", "    return torch.cdist(a, b)"]
            call = f"pairwise_{n}({site.args[0]}, {site.args[1]})"
        else:
            body = [f"def distance_{n}(a, b):", "    return (a - b).norm(dim=-1)"]
            call = f"distance_{n}({site.args[0]}, {site.args[1]})"
        needs_torch = ["import torch"] if pairwise else []
        if variant == "same-file":
            return variant, Plan(call, expr_has_bug=False, helper=body, helper_bug_offset=1, imports=needs_torch)
        mod = f"geom_helpers_{n}"
        imp = f"from .{mod} import {body[0][4:].split('(')[0]}" if package else f"from {mod} import {body[0][4:].split('(')[0]}"
        return variant, Plan(
            call,
            expr_has_bug=False,
            imports=[imp],
            module_name=mod,
            module_lines=[*needs_torch, "", "", *body],
            module_bug_offset=len(needs_torch) + 3,
        )
    if pattern == "C":
        variant = rng.choice(["dict", "return"])
        if variant == "dict":
            if point:
                return variant, Plan(f'store_{n}["z"].norm(dim=-1)', before_stmt=[f'store_{n} = {{"z": {site.args[0]}}}'])
            expr = f'torch.cdist(store_{n}["a"], store_{n}["b"])' if pairwise else f'(store_{n}["a"] - store_{n}["b"]).norm(dim=-1)'
            return variant, Plan(
                expr,
                before_stmt=[f'store_{n} = {{"a": {site.args[0]}, "b": {site.args[1]}}}'],
                imports=["import torch"] if pairwise else [],
            )
        helper = [f"def unpack_{n}(v):", '    out = {"z_hyp": v}', '    return out["z_hyp"]']
        if point:
            return variant, Plan(f"unpack_{n}({site.args[0]}).norm(dim=-1)", helper=helper)
        if pairwise:
            return variant, Plan(
                f"torch.cdist(unpack_{n}({site.args[0]}), unpack_{n}({site.args[1]}))", helper=helper, imports=["import torch"]
            )
        return variant, Plan(f"(unpack_{n}({site.args[0]}) - unpack_{n}({site.args[1]})).norm(dim=-1)", helper=helper)
    if pattern == "D":
        if point:
            return "mean-norm", Plan(f"centroid_{n}.norm(dim=-1)", before_stmt=[f"centroid_{n} = {x}.mean(dim=0)"])
        if pairwise:
            return "to-mean", Plan(
                f"torch.cdist({x}, centroid_{n}[None])", before_stmt=[f"centroid_{n} = {y}.mean(dim=0)"], imports=["import torch"]
            )
        return "to-mean", Plan(f"({x} - centroid_{n}).norm(dim=-1)", before_stmt=[f"centroid_{n} = {y}.mean(dim=0)"])
    if pattern == "E":
        doc = [
            '    """Hyperbolic size of each embedding.',
            "",
            "    Args:",
            "        emb: points on the Poincare ball (curvature -1), shape (..., d).",
            '    """',
        ]
        if point:
            helper = [f"def size_{n}(emb):", *doc, "    return emb.norm(dim=-1)"]
            return "param-doc", Plan(f"size_{n}({site.args[0]})", expr_has_bug=False, helper=helper, helper_bug_offset=len(helper) - 1)
        doc2 = [d.replace("emb: points", "emb, other: points") for d in doc]
        body = "    return torch.cdist(emb, other)" if pairwise else "    return (emb - other).norm(dim=-1)"
        helper = [f"def size_{n}(emb, other):", *doc2, body]
        return "param-doc", Plan(
            f"size_{n}({site.args[0]}, {site.args[1]})",
            expr_has_bug=False,
            helper=helper,
            helper_bug_offset=len(helper) - 1,
            imports=["import torch"] if pairwise else [],
        )
    if pattern == "F":
        npx = f"{x}.detach().cpu().numpy()"
        if point:
            return "np.linalg.norm", Plan(f"np.linalg.norm({npx}, axis=-1)", imports=["import numpy as np"])
        npy = f"{y}.detach().cpu().numpy()"
        if pairwise:
            return "scipy-cdist", Plan(f"scipy.spatial.distance.cdist({npx}, {npy})", imports=["import scipy.spatial.distance"])
        variant = rng.choice(["scipy-cdist", "np-sqrt-sum"])
        if variant == "scipy-cdist":
            return variant, Plan(f"scipy.spatial.distance.cdist({npx}, {npy}).diagonal()", imports=["import scipy.spatial.distance"])
        return variant, Plan(f"np.sqrt((({npx} - {npy}) ** 2).sum(-1))", imports=["import numpy as np"])
    raise ValueError(pattern)


# --------------------------------------------------------------------------- applying


def _marker(mid: int) -> str:
    return f"  # inj:{mid}"


def _imports_present(tree: ast.Module) -> set[str]:
    have = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            have.add(ast.unparse(node))
    return have


def _insertion_line(tree: ast.Module) -> int:
    """0-based line index after the module docstring, __future__ imports and the import block."""
    idx = 0
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str) and idx == 0:
            idx = node.end_lineno or idx
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            idx = node.end_lineno or idx
            continue
        break
    return idx


def apply_file(text: str, items: list[tuple[Mutation, Site, Plan]]) -> tuple[str, list[Mutation]]:
    """Apply the mutations of one file; return the new text (with markers) and those kept."""
    lines = text.splitlines(keepends=True)
    kept: list[tuple[Mutation, Site, Plan]] = []
    # Bottom-up so that earlier positions stay valid.
    for mut, site, plan in sorted(items, key=lambda t: (t[1].lineno, t[1].col), reverse=True):
        trial = list(lines)
        first = trial[site.lineno - 1]
        last = trial[site.end_lineno - 1]
        newline = first[: site.col] + plan.expr + last[site.end_col :]
        body, nl = (newline[:-1], "\n") if newline.endswith("\n") else (newline, "")
        if plan.expr_has_bug:
            body += _marker(mut.id)
        trial[site.lineno - 1 : site.end_lineno] = [body + nl]
        if plan.before_stmt:
            ins = [site.indent + s + "\n" for s in plan.before_stmt]
            trial[site.stmt_lineno - 1 : site.stmt_lineno - 1] = ins
        try:
            ast.parse("".join(trial))
        except SyntaxError:
            continue  # this site cannot take the mutation (e.g. the line ends inside a string)
        lines = trial
        kept.append((mut, site, plan))
    # Helpers and imports at the top of the module.
    try:
        tree = ast.parse("".join(lines))
    except SyntaxError:
        return text, []
    have = _imports_present(tree)
    imports: list[str] = []
    for _, _, plan in kept:
        for imp in plan.imports:
            if imp not in have and imp not in imports:
                imports.append(imp)
    helpers: list[str] = []
    for mut, _, plan in sorted(kept, key=lambda t: t[0].id):
        if not plan.helper:
            continue
        helpers += ["\n", "\n"]
        for i, h in enumerate(plan.helper):
            helpers.append(h + (_marker(mut.id) if i == plan.helper_bug_offset else "") + "\n")
    block = [imp + "\n" for imp in imports] + helpers + (["\n", "\n"] if helpers else [])
    at = _insertion_line(tree)
    lines[at:at] = block
    return "".join(lines), [m for m, _, _ in kept]


def locate_and_strip(root: Path, muts: list[Mutation]) -> None:
    """Find each mutation's marker line, record it, and remove the markers from the files."""
    by_file: dict[str, list[Mutation]] = defaultdict(list)
    for m in muts:
        by_file[m.bug_path].append(m)
    for rel, ms in by_file.items():
        file = root / rel
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        for m in ms:
            mark = _marker(m.id)
            for i, line in enumerate(lines):
                if mark + "\n" in line or line.endswith(mark):
                    m.bug_line = i + 1
                    lines[i] = line.replace(mark, "", 1)
                    break
        file.write_text("".join(lines), encoding="utf-8")


def inject_repo(repo: str, src: Path, dst: Path, pattern: str, rng: random.Random, start_id: int, max_per_file: int) -> list[Mutation]:
    """Copy SRC to DST and rewrite every eligible site (at most MAX_PER_FILE per file, a seeded
    random choice where there are more) with PATTERN. Returns the mutations that were applied."""
    sites = find_sites(repo, src)
    if not sites:
        return []
    shutil.copytree(src, dst, symlinks=True)  # kept as links: a dangling one (Audyn's recipes) cannot be copied
    rng.shuffle(sites)
    chosen: list[Site] = []
    per_file: Counter[str] = Counter()
    stmts: set[tuple[str, int]] = set()
    for s in sites:
        if per_file[s.path] >= max_per_file or (s.path, s.stmt_lineno) in stmts:
            continue  # one mutation per statement keeps the edits independent
        chosen.append(s)
        per_file[s.path] += 1
        stmts.add((s.path, s.stmt_lineno))
    chosen.sort(key=lambda s: (s.path, s.lineno, s.col))
    rewritten = {(s.path, s.lineno, s.col) for s in chosen}  # a rewritten call is no evidence for the others of its copy
    by_file: dict[str, list[tuple[Mutation, Site, Plan]]] = defaultdict(list)
    mid = start_id
    for s in chosen:
        package = (dst / s.path).parent.joinpath("__init__.py").exists()
        variant, plan = plan_mutation(s, pattern, mid, rng, package)
        left = any((s.path, *where) not in rewritten for where in s.evidence)
        mut = Mutation(mid, repo, pattern, variant, s.path, s.lineno, s.original, plan.expr, evidence_left=left)
        by_file[s.path].append((mut, s, plan))
        mid += 1
    result: list[Mutation] = []
    for rel, items in by_file.items():
        file = dst / rel
        text, kept = apply_file(file.read_text(encoding="utf-8", errors="replace"), items)
        file.write_text(text, encoding="utf-8")
        plans = {m.id: p for m, _, p in items}
        for m in kept:
            plan = plans[m.id]
            if plan.module_name:
                mod_rel = (Path(rel).parent / f"{plan.module_name}.py").as_posix()
                mlines = list(plan.module_lines)
                mlines[plan.module_bug_offset] += _marker(m.id)
                (dst / mod_rel).write_text("\n".join(mlines) + "\n", encoding="utf-8")
                m.bug_path = mod_rel
            else:
                m.bug_path = rel
            result.append(m)
    locate_and_strip(dst, result)
    return [m for m in result if m.bug_line]


def frac(found: int, total: int) -> str:
    return f"{found}/{total} ({100 * found / total:.0f}%)" if total else "0/0 (n/a)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkouts", nargs="?", type=Path, default=DEFAULT_CHECKOUTS)
    ap.add_argument("--out", type=Path, help="write the mutated copies here (must be empty or absent)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--repo", action="append", help="only this repository (repeatable)")
    ap.add_argument("--max-per-file", type=int, default=5)
    ap.add_argument("--pattern", action="append", choices=list(PATTERNS), help="only this pattern (repeatable)")
    ap.add_argument("--json", action="store_true")
    add_scanner_argument(ap)
    args = ap.parse_args(argv)
    use_scanner_argument(args)

    if args.out:
        if args.out.exists() and any(args.out.iterdir()):
            ap.error(f"--out {args.out} is not empty")
        args.out.mkdir(parents=True, exist_ok=True)
        root = args.out
    else:
        root = Path(tempfile.mkdtemp(prefix="vaeaudit-inject-"))
    rng = random.Random(args.seed)
    all_muts: list[Mutation] = []
    control: dict[str, list[str]] = {}
    elsewhere: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = defaultdict(list)
    patterns = args.pattern or list(PATTERNS)
    try:
        for repo in load_repos():
            name = repo["name"]
            if args.repo and name not in args.repo:
                continue
            src = checkout_dir(args.checkouts, name)
            if not src.exists():
                print(f"{name}: no checkout in {src}; run checkout.py first", file=sys.stderr)
                continue
            # Precision control: the unmutated checkout.
            base = run_scanner(src)
            control[name] = [f"{f['path']}:{f['line']} {f.get('rule')} {f.get('confidence')}" for f in base.findings]
            errors[name] += base.errors
            base_keys = {(f["path"], int(f["line"])) for f in base.findings}
            # One copy per pattern: every eligible site of the repository gets that pattern.
            for pattern in patterns:
                dst = root / pattern / repo_slug(name)
                muts = inject_repo(name, src, dst, pattern, rng, len(all_muts) + 1, args.max_per_file)
                if not muts:
                    continue
                for m in muts:
                    m.bug_path = f"{pattern}/{repo_slug(name)}/{m.bug_path}"
                scan = run_scanner(dst)
                # Errors already seen on the unmutated checkout (its own syntax errors) are not repeated.
                errors[name] += [f"[{pattern}] {e}" for e in scan.errors if e.replace(str(dst), str(src)) not in base.errors]
                at: dict[tuple[str, int], list[str]] = defaultdict(list)
                for f in scan.findings:
                    at[(f"{pattern}/{repo_slug(name)}/{f['path']}", int(f["line"]))].append(f"{f.get('rule')} {f.get('confidence')}")
                bug_lines = set()
                for m in muts:
                    hits = at.get((m.bug_path, m.bug_line), [])
                    m.found = bool(hits)
                    m.findings_at_line = hits
                    bug_lines.add((m.bug_path, m.bug_line))
                prefix = f"{pattern}/{repo_slug(name)}/"
                seen_before = shifted(base_keys, src, dst)
                elsewhere.setdefault(name, []).extend(
                    f"{p}:{ln} {', '.join(v)}"
                    for (p, ln), v in sorted(at.items())
                    if (p, ln) not in bug_lines and (p[len(prefix) :], ln) not in seen_before
                )
                all_muts.extend(muts)
        (root / "manifest.json").write_text(json.dumps([asdict(m) for m in all_muts], indent=2), encoding="utf-8")
        report(all_muts, control, elsewhere, errors, root, args.json)
    finally:
        if not args.out and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def shifted(keys: set[tuple[str, int]], src: Path, dst: Path) -> set[tuple[str, int]]:
    """The control's (path, line) findings at their lines in the mutated copy: a rewrite of a call spread over
    several lines into one moves every later line of its file, and the same finding must not count as new."""
    moved = set()
    for path, line in keys:
        before, after = (folder / path for folder in (src, dst))
        try:
            old, new = before.read_text(encoding="utf-8").splitlines(), after.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            moved.add((path, line))
            continue
        for tag, i1, i2, j1, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal" and i1 < line <= i2:
                moved.add((path, line - i1 + j1))
                break
        else:
            moved.add((path, line))  # on a rewritten line: kept as it was
    return moved


def report(muts: list[Mutation], control: dict, elsewhere: dict, errors: dict, root: Path, as_json: bool) -> None:
    by_pat: dict[str, list[Mutation]] = defaultdict(list)
    by_var: dict[tuple[str, str], list[Mutation]] = defaultdict(list)
    by_repo: dict[str, list[Mutation]] = defaultdict(list)
    for m in muts:
        by_pat[m.pattern].append(m)
        by_var[(m.pattern, m.variant)].append(m)
        by_repo[m.repo].append(m)
    if as_json:
        print(
            json.dumps(
                dict(
                    total=dict(injected=len(muts), found=sum(m.found for m in muts)),
                    per_pattern={
                        p: dict(
                            injected=len(v),
                            found=sum(m.found for m in v),
                            evidence_left=sum(m.evidence_left for m in v),
                            found_evidence_left=sum(m.found and m.evidence_left for m in v),
                        )
                        for p, v in sorted(by_pat.items())
                    },
                    per_variant={
                        f"{p}/{var}": dict(injected=len(v), found=sum(m.found for m in v)) for (p, var), v in sorted(by_var.items())
                    },
                    per_repo={r: dict(injected=len(v), found=sum(m.found for m in v)) for r, v in by_repo.items()},
                    mutations=[asdict(m) for m in muts],
                    control_findings=control,
                    other_findings_on_mutated=elsewhere,
                    errors=errors,
                    folder=str(root),
                ),
                indent=2,
            )
        )
        return
    crashes = [e for errs in errors.values() for e in internal_errors(errs)]
    if crashes:
        print(f"WARNING: the scanner crashed {len(crashes)} times (internal errors, listed below):")
        print("         injected bugs in those files count as missed; the figures are NOT valid.\n")
    names = {
        "A": "direct",
        "B": "helper (args across calls)",
        "C": "container / return",
        "D": "Euclidean mean",
        "E": "docstring parameter",
        "F": "numpy / scipy",
    }

    def cols(v: list[Mutation]) -> str:
        ev = [m for m in v if m.evidence_left]
        no = [m for m in v if not m.evidence_left]
        return (
            f"{frac(sum(m.found for m in v), len(v)):>14}  {frac(sum(m.found for m in ev), len(ev)):>14}"
            f"  {frac(sum(m.found for m in no), len(no)):>14}"
        )

    print("Injected bugs found by `vaeaudit scan` (a finding at the mutated file:line)")
    print("  evidence left: an argument still meets a ball consumer/producer in the same function;")
    print("  none left: the rewritten call was the only evidence (needs producers/callers elsewhere)")
    print(f"{'pattern':<34} {'found':>14}  {'evidence left':>14}  {'none left':>14}")
    print("-" * 81)
    for p in PATTERNS:
        v = by_pat.get(p, [])
        print(f"{p} {names[p]:<32} {cols(v)}")
        for (pp, var), vv in sorted(by_var.items()):
            if pp == p:
                print(f"    {var:<30} {cols(vv)}")
    print("-" * 81)
    print(f"{'TOTAL':<34} {cols(muts)}")
    print()
    print("Per repository:")
    for r, v in by_repo.items():
        print(f"  {r:<44} {frac(sum(m.found for m in v), len(v)):>14}")
    print()
    n_ctrl = sum(len(v) for v in control.values())
    print(f"Precision control: findings on the unmutated checkouts: {n_ctrl}")
    for r, v in control.items():
        for f in v:
            print(f"  {r}  {f}")
    n_else = sum(len(v) for v in elsewhere.values())
    print(f"Findings on mutated copies away from injected lines (and not in the control): {n_else}")
    for r, v in elsewhere.items():
        for f in v:
            print(f"  {r}  {f}")
    for r, errs in errors.items():
        for e in errs:
            if e in internal_errors([e]):
                print(f"SCANNER ERROR {r}: {e[:300]}")
            else:
                print(f"note: {r}: the scanner reports the repository's own syntax error: {e[:300]}")
    missed = [m for m in muts if not m.found]
    if missed:
        print(f"\nMissed injected bugs ({len(missed)}), file:line in the mutated tree ({root}):")
        for m in sorted(missed, key=lambda m: (m.pattern, m.repo, m.bug_path)):
            print(f"  {m.pattern}/{m.variant:<14} {m.repo}  {m.bug_path}:{m.bug_line}   was: {m.original[:70]}")


if __name__ == "__main__":
    raise SystemExit(main())
