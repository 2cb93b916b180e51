"""The static scanner: finds Euclidean norms and distances taken of Poincaré-ball points.

Public entry points: `scan_source(bytes, path, settings)`, `scan_module(libcst.Module,
path, settings)` (both in `vaeaudit.scan.analyzer`), `vaeaudit.scan.settings.load_settings` and
`vaeaudit.scan.discovery.iter_python_files`. They are re-exported lazily so that importing a
light submodule (settings, rules) never pulls in libcst.
"""

from __future__ import annotations

__all__ = ["scan_module", "scan_source"]


def __getattr__(name: str):
    if name in __all__:
        from vaeaudit.scan import analyzer

        return getattr(analyzer, name)
    raise AttributeError(f"module 'vaeaudit.scan' has no attribute {name!r}")
