"""Evidence lines found in the text agree with libcst's PositionProvider wherever they are given."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from vaeaudit.scan import lines
from vaeaudit.scan.lines import Positions, line_by_text
from vaeaudit.scan.tree import children

TESTS = Path(__file__).parents[1]
FIXTURES = sorted((TESTS / "scan" / "fixtures").rglob("*.py")) + sorted((TESTS / "fix" / "fixtures").glob("*.py"))

NESTED = """
class Ball:
    def dist(self, x, y):
        if x is None:
            return y
        out = self.f(x,
                     y)
        return out

    @property
    def radius(self):
        out = self.f(x,
                     y)
        return out
"""


def every_node(module: cst.Module) -> list[cst.CSTNode]:
    found, stack = [], [module]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children(node))
    return found


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_a_line_found_in_the_text_is_the_line_of_the_node(path: Path) -> None:
    module = cst.parse_module(path.read_bytes())  # a latin-1 fixture too: the text is what libcst decoded
    text = module.code
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    given = 0
    for node in every_node(module)[1:]:
        line = line_by_text(text, module, node)
        if line is not None:
            given += 1
            assert line == positions[node].start.line, module.code_for_node(node)
    assert given > 0 or not module.body


def test_repeated_code_is_placed_through_its_enclosing_code_or_not_at_all() -> None:
    module = cst.parse_module(NESTED)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    outs = [node for node in every_node(module) if isinstance(node, cst.Name) and node.value == "out"]
    assert len(outs) == 4
    for node in outs:
        assert line_by_text(NESTED, module, node) in (None, positions[node].start.line)
    # a continuation line is written with the block's indentation, not the file's: never searched for
    calls = [node for node in every_node(module) if isinstance(node, cst.Call)]
    assert all(line_by_text(NESTED, module, call) in (None, positions[call].start.line) for call in calls)
    headers = [node for node in every_node(module) if isinstance(node, cst.FunctionDef)]
    assert sorted(line_by_text(NESTED, module, node) for node in headers) == [3, 11]  # `def`, after the decorator


def test_lone_carriage_returns_are_left_to_position_provider() -> None:
    text = "x = 1\ry = x\r"
    module = cst.parse_module(text)
    assert all(line_by_text(text, module, node) is None for node in every_node(module))


# Statements that make the two parses line up differently: `;`, decorators, comments, a module docstring and
# header comments, a continuation line, nested defs, a class body.
SHAPES = '''#!/usr/bin/env python
"""A module docstring."""
import torch; import numpy as np  # two statements, one line


# a comment above a decorated function
@torch.no_grad()
@staticmethod
def radius(z):
    r = torch.norm(z,
                   dim=-1)
    return r


class Ball:
    """Its docstring."""

    def dist(self, x, y):
        def inner(a):
            return a.norm()
        return inner(x - y)


if __name__ == "__main__":
    x = 1; y = radius(x)
'''


@pytest.mark.parametrize("path", [*FIXTURES, None], ids=lambda p: p.name if p else "shapes")
def test_positions_one_statement_at_a_time_are_those_of_the_whole_module(path: Path | None) -> None:
    module = cst.parse_module(path.read_bytes() if path else SHAPES)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = Positions(module, module.code)
    nodes = every_node(module)[1:]
    for node in reversed(nodes):  # any order: statements are walked lazily, as the lookups come
        assert positions[node] == whole[node], module.code_for_node(node)
    # Up to `_STATEMENTS_APART` statements, the positions of the whole module are never computed.
    few = Positions(module, module.code)
    for statement in module.body[-lines._STATEMENTS_APART :]:
        assert all(few[node] == whole[node] for node in every_node(statement))
    assert few._whole is None


def test_positions_without_a_text_that_lines_up_fall_back_to_the_whole_module() -> None:
    for text in ("x = 1\r" + "y = torch.norm(z)\r", "x = 1\n"):
        module = cst.parse_module(text)
        whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        positions = Positions(module, module.code if "\r" in text else None)
        assert [positions[node] for node in every_node(module)[1:]] == [whole[node] for node in every_node(module)[1:]]
        assert positions._whole is not None


def test_once_positions_are_needed_the_text_search_is_not_repeated(monkeypatch) -> None:
    """Evidence repeated in every function (`z <- ball.expmap0(h)`) is not unique in the text: each lookup would
    walk the whole module for its ancestors, quadratic in the file's size (8,000 such functions ran for minutes).
    Once a module needs positions, they answer every later lookup."""
    from vaeaudit.scan.analyzer import analyse_source
    from vaeaudit.scan.settings import Settings

    walks = []
    ancestors = lines._ancestors
    monkeypatch.setattr(lines, "_ancestors", lambda module, node: walks.append(node) or ancestors(module, node))
    functions = "".join(f"def f{i}(h):\n    z = ball.expmap0(h)\n    return torch.norm(z, dim=-1)\n\n" for i in range(50))
    source = "import torch\nfrom geoopt import PoincareBall\nball = PoincareBall()\n\n" + functions
    findings, _, _ = analyse_source(source.encode(), "m.py", Settings(project_root=Path(".")), None)
    assert len(findings) == 50
    assert len(walks) <= 1
