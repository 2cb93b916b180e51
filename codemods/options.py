"""The knobs a rewrite needs, taken from the scanner's Settings plus the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FixOptions:
    """Where poincare_distance comes from, how curvature is found, and whether unsafe fixes run.

    `curvature_expressions` are tried in order at each call site; `default_curvature` is
    used (and the fix marked unsafe) when none of them is bound there.
    """

    poincare_import: str = "vaeaudit.geometry"
    curvature_expressions: tuple[str, ...] = ("self.curvature", "self.c", "curvature", "c")
    default_curvature: float = 1.0
    unsafe_fixes: bool = False
    # The configuration file that sets `default-curvature` explicitly: the user's statement
    # that the project's curvature is that number, so fixes using it are safe.
    curvature_stated: str | None = None
    project_root: Path | None = None  # where a configured geometry module may live

    @classmethod
    def from_settings(cls, settings: Any, *, unsafe_fixes: bool) -> FixOptions:
        """Read the fix keys of `vaeaudit.scan.settings.Settings`."""
        return cls(
            poincare_import=settings.poincare_import,
            curvature_expressions=tuple(settings.curvature_expressions),
            default_curvature=float(settings.default_curvature),
            unsafe_fixes=unsafe_fixes,
            curvature_stated=_stating_file(settings.config_path),
            # Without a configuration file the root is only the current folder; fix_paths uses the scanned folder.
            project_root=settings.project_root if settings.config_path is not None else None,
        )


def _stating_file(config: Path | None) -> str | None:
    """The name of `config` when it sets default-curvature itself (not merely inheriting the default)."""
    if config is None:
        return None
    from vaeaudit.config import read_config

    return config.name if "default-curvature" in read_config(config) else None
