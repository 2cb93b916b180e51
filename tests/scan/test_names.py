"""ImportMap: every import statement of a module, wherever it sits, read in source order."""

from __future__ import annotations

import libcst as cst

from vaeaudit.scan.names import ImportMap

SOURCE = """
import torch as T
from torch.linalg import vector_norm as vn
try:
    import geoopt
except ImportError:
    from hyptorch import pmath as geoopt
else:
    import numpy as np
finally:
    import scipy.spatial as sp
if T:
    from .geometry import poincare_distance
elif np:
    import math as m
while False: import collections
match T:
    case _:
        from json import dumps
def helper():
    import pandas as pd
    def norm(x):
        return x
class Box:
    from os import path
from torch import norm
def norm(x):
    return x
"""


def test_every_import_is_read_and_a_top_level_def_rebinds_its_name() -> None:
    aliases = ImportMap(cst.parse_module(SOURCE), package="project.models").aliases
    assert aliases == {
        "T": "torch",
        "vn": "torch.linalg.vector_norm",
        "geoopt": "hyptorch.pmath",  # the `except` clause comes after the `try` body
        "np": "numpy",
        "sp": "scipy.spatial",
        "poincare_distance": "project.models.geometry.poincare_distance",
        "m": "math",
        "collections": "collections",  # a suite on its header's line
        "dumps": "json.dumps",
        "pd": "pandas",  # a function's import counts for the whole module (an approximation)
        "path": "os.path",
    }  # `norm`: imported, then rebound by the module's own `def norm`; a nested `def norm` rebinds nothing


def test_relative_imports_need_the_package() -> None:
    assert ImportMap(cst.parse_module("from . import losses\n"), package=None).aliases == {}
    assert ImportMap(cst.parse_module("from .. import losses\n"), package="a.b").aliases == {"losses": "a.losses"}
