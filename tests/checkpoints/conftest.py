"""Make the tree builder importable (pytest runs with --import-mode=importlib) and share one tree."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tree_builder import Tree, build_tree  # noqa: E402


@pytest.fixture(scope="session")
def tree(tmp_path_factory) -> Tree:
    """One realistic tree for the whole session: building it costs ~1 s."""
    return build_tree(tmp_path_factory.mktemp("checkpoints") / "runs")
