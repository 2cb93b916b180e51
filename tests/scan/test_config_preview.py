"""The `preview` setting: default off, from `[tool.vaeaudit]`, `--preview` on scan and fix, in the cache key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.config import ConfigError
from vaeaudit.scan import settings as settings_module
from vaeaudit.scan.settings import Settings, load_settings


def test_preview_defaults_off_and_is_read_from_pyproject(tmp_path: Path) -> None:
    assert load_settings(tmp_path).preview is False
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\npreview = true\n", encoding="utf-8")
    assert load_settings(tmp_path).preview is True
    assert load_settings(tmp_path, preview=False).preview is False
    (tmp_path / "pyproject.toml").write_text("[tool.vaeaudit]\npreview = 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="preview"):
        load_settings(tmp_path)


def test_preview_changes_the_cache_fingerprint() -> None:
    assert Settings(preview=True).fingerprint() != Settings().fingerprint()


@pytest.mark.parametrize("command", ["scan", "fix"])
def test_preview_flag_reaches_the_settings(command: str, tmp_path: Path, monkeypatch) -> None:
    seen = []
    real = settings_module.settings_from

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        seen.append(result.preview)
        return result

    monkeypatch.setattr(settings_module, "settings_from", spy)
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, [command, "a.py", "--preview"]).exit_code == 0
    assert CliRunner().invoke(main, [command, "a.py"]).exit_code == 0
    assert seen == [True, False]
