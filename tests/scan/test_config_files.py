"""Configuration as in ruff: the closest config file per scanned path, --config, --isolated, --show-*."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vaeaudit.cli import main
from vaeaudit.config import read_tool_table

BAD = (
    "from vaeaudit.geometry import exp_map_zero\n\ndef f(mu):\n    z = exp_map_zero(mu)\n    return z.norm(dim=-1), (z - z).norm(dim=-1)\n"
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def rules(result) -> list[tuple[str, str]]:
    return sorted((line.split(":")[0], line.split()[1]) for line in result.stdout.splitlines())


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch) -> Path:
    write(tmp_path / "pyproject.toml", "[tool.vaeaudit]\nper-file-ignores = { 'pkgs/a/*' = ['HYP002'] }\n")
    write(tmp_path / "pkgs" / "a" / "pyproject.toml", "[project]\nname = 'a'\n")  # no [tool.vaeaudit]
    write(tmp_path / "pkgs" / "a" / "mod.py", BAD)
    write(tmp_path / "pkgs" / "b" / "vaeaudit.toml", "select = ['HYP002']\n")
    write(tmp_path / "pkgs" / "b" / "mod.py", BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_nearer_pyproject_without_the_table_does_not_shadow_the_real_one(monorepo: Path) -> None:
    assert rules(run("scan", "--no-cache", "pkgs/a")) == [("pkgs/a/mod.py", "HYP001")]


def test_each_path_uses_its_own_closest_config(monorepo: Path) -> None:
    result = run("scan", "--no-cache", "pkgs/a", "pkgs/b/mod.py")
    assert rules(result) == [("pkgs/a/mod.py", "HYP001"), ("pkgs/b/mod.py", "HYP002")]
    assert rules(run("scan", "--no-cache", ".")) == [("pkgs/a/mod.py", "HYP001"), ("pkgs/b/mod.py", "HYP002")]


def test_dot_vaeaudit_toml_wins_over_pyproject_in_the_same_folder(monorepo: Path) -> None:
    write(monorepo / "pkgs" / "a" / "pyproject.toml", "[tool.vaeaudit]\nselect = ['HYP002']\n")
    write(monorepo / "pkgs" / "a" / ".vaeaudit.toml", "select = ['HYP001']\n")
    assert rules(run("scan", "--no-cache", "pkgs/a")) == [("pkgs/a/mod.py", "HYP001")]


def test_config_option_and_isolated(monorepo: Path) -> None:
    other = write(monorepo / "elsewhere.toml", "ignore = ['HYP001']\n")
    result = run("scan", "--no-cache", "--config", str(other), "pkgs")
    assert rules(result) == [("pkgs/a/mod.py", "HYP002"), ("pkgs/b/mod.py", "HYP002")]
    result = run("scan", "--no-cache", "--isolated", "pkgs")
    assert len(rules(result)) == 4
    result = run("scan", "--config", str(other), "--isolated", "pkgs")
    assert result.exit_code == 2 and "--config and --isolated" in result.output
    result = run("scan", "--config", "missing.toml", "pkgs")
    assert result.exit_code == 2 and "missing.toml: configuration file not found" in result.output
    assert "Traceback" not in result.output


def test_show_settings_and_show_files(monorepo: Path) -> None:
    result = run("scan", "--show-settings", "pkgs/b/mod.py")
    assert result.exit_code == 0
    assert f"# Settings from {monorepo / 'pkgs' / 'b' / 'vaeaudit.toml'}" in result.stdout
    assert 'select = ["HYP002"]' in result.stdout and "per-file-ignores = {}" in result.stdout
    assert "extend-exclude = " in result.stdout and "_" not in result.stdout.split("\n", 2)[2].split("=")[0]
    result = run("scan", "--show-files", ".")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["pkgs/a/mod.py", "pkgs/b/mod.py"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("per-file-ignores = { 'x/*' = ['HYP999'] }", "key 'per-file-ignores' (glob 'x/*'): unknown rule selector 'HYP999'"),
        ("per-file-ignores = { 'x/*' = ['hyp001'] }", "'hyp001' is not a rule code"),
        ("select = ['E501']", "key 'select': unknown rule selector 'E501'"),
        ("ignore = ['HYP9']", "key 'ignore': unknown rule selector 'HYP9'"),
        ("extend_exclude = ['x']", "unknown key 'extend_exclude'; did you mean 'extend-exclude'?"),
    ],
)
def test_every_rule_code_and_key_in_the_config_is_validated(tmp_path: Path, monkeypatch, table: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.vaeaudit]\n{table}\n")
    write(tmp_path / "a.py", "x = 1\n")
    monkeypatch.chdir(tmp_path)
    result = run("scan", "a.py")
    assert result.exit_code == 2 and message in result.output, result.output
    assert "pyproject.toml" in result.output and "Traceback" not in result.output


def test_the_checkpoints_sub_table_passes_through_untouched(tmp_path: Path) -> None:
    write(tmp_path / "vaeaudit.toml", "select = ['HYP']\n[checkpoints]\nroot = 'runs'\nstale-after-hours = 3\n")
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'sub'\n")
    table, path = read_tool_table(tmp_path / "sub")
    assert path == tmp_path / "vaeaudit.toml"
    assert table["checkpoints"] == {"root": "runs", "stale-after-hours": 3}
    write(tmp_path / "a.py", "x = 1\n")
    assert CliRunner().invoke(main, ["scan", str(tmp_path / "a.py")]).exit_code == 0


def test_force_exclude_applies_exclude_to_named_files(tmp_path: Path, monkeypatch) -> None:
    write(tmp_path / "pyproject.toml", "[tool.vaeaudit]\nextend-exclude = ['generated']\n")
    write(tmp_path / "generated" / "deep" / "mod.py", BAD)
    monkeypatch.chdir(tmp_path)
    assert run("scan", "--no-cache", "generated/deep/mod.py").exit_code == 1  # named files are scanned, as in ruff
    result = run("scan", "--no-cache", "--force-exclude", "generated/deep/mod.py")
    assert result.exit_code == 0 and result.stdout == ""
    write(tmp_path / "pyproject.toml", "[tool.vaeaudit]\nextend-exclude = ['generated']\nforce-exclude = true\n")
    assert run("scan", "--no-cache", "generated/deep/mod.py").exit_code == 0
    assert run("fix", "generated/deep/mod.py").exit_code == 0
    assert run("scan", "--no-cache", "--no-force-exclude", "generated/deep/mod.py").exit_code == 1


def test_show_settings_is_a_config_file_that_reproduces_them(monorepo: Path) -> None:
    shown = run("scan", "--show-settings", "pkgs/b").stdout
    write(monorepo / "copy.toml", shown)
    again = run("scan", "--show-settings", "--config", "copy.toml", "pkgs/b").stdout
    assert again.split("\n", 2)[2] == shown.split("\n", 2)[2]  # all but the two header comments
    assert rules(run("scan", "--no-cache", "--config", "copy.toml", "pkgs/b")) == [("pkgs/b/mod.py", "HYP002")]
