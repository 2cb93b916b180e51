"""The wheel carries everything an editable checkout has, templates included."""

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "audit", "codemods", "ternary_vae", "templates"]
# What the light core installs (pyproject `dependencies`, and libcst's own pyyaml).
LIGHT_CORE = ["libcst", "click", "jinja2", "markupsafe", "pathspec", "yaml", "_yaml"]


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """Build the wheel from a clean copy of the sources and install it in a throwaway venv."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, source / name)
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source],
        check=True,
    )
    wheel = next(dist.glob("vaeaudit-*.whl"))
    # The wheel again, with nothing but the light core beside it: no torch, no pandas.
    light = work / "light"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", light, wheel], check=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for name in LIGHT_CORE:
        if (site / name).exists():
            (light / name).symlink_to(site / name)
    environment = work / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], check=True)
    # Dependencies (jinja2, libcst, ...) come from this test's own environment; the
    # package itself must come from the throwaway venv, never from the checkout.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    return python, env, work


def test_wheel_ships_every_template(installed_wheel):
    python, env, work = installed_wheel
    probe = (
        "import vaeaudit.render as r\n"
        "environment = r.template_environment()\n"
        "names = sorted(environment.list_templates(extensions=[\"j2\"]))\n"
        "for name in names:\n"
        "    environment.get_template(name)\n"
        "print(r.__file__)\n"
        "print(' '.join(names))\n"
    )
    result = subprocess.run([python, "-c", probe], cwd=work, env=env, capture_output=True, text=True, check=True)
    module_file, names = result.stdout.splitlines()
    assert module_file.startswith(str(work / "venv"))
    expected = sorted(path.name for path in (REPO / "templates").glob("*.j2"))
    assert expected, "templates/ holds no template"
    assert names.split() == expected


def test_installed_names_are_one_namespace(installed_wheel):
    """Nothing but `vaeaudit` (and its dist-info) lands top-level: no `audit`, no `codemods`."""
    _, _, work = installed_wheel
    top = sorted(p.name for p in (work / "light").iterdir() if not p.is_symlink() and p.name != "bin")
    assert [name for name in top if not name.endswith(".dist-info")] == ["vaeaudit"]


def _light(work: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed CLI with only the light core importable (`-S`: no site-packages)."""
    env = {**os.environ, "PYTHONPATH": str(work / "light")}
    return subprocess.run([sys.executable, "-S", "-m", "vaeaudit", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_light_core_scans_and_fixes_without_torch(installed_wheel, tmp_path):
    _, _, work = installed_wheel
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import importlib.util as u; print([m for m in ('torch', 'pandas', 'tabulate') if u.find_spec(m)])"],
        env={**os.environ, "PYTHONPATH": str(work / "light")}, capture_output=True, text=True, check=True,
    )
    assert probe.stdout.strip() == "[]"
    source = tmp_path / "model.py"
    source.write_text(
        "import torch\nfrom vaeaudit.geometry import exp_map_zero\n\n\n"
        "def radius(mu, curvature):\n    z = exp_map_zero(mu, c=curvature)\n    return torch.norm(z, dim=-1)\n"
    )
    scanned = _light(work, "scan", "--no-cache", "model.py", cwd=tmp_path)
    assert scanned.returncode == 1, scanned.stderr
    assert "HYP001" in scanned.stdout
    fixed = _light(work, "fix", "--apply", "model.py", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "poincare" in source.read_text()
    assert _light(work, "rule", "HYP001", cwd=tmp_path).returncode == 0


def test_light_core_names_the_extra_a_command_needs(installed_wheel, tmp_path):
    _, _, work = installed_wheel
    for command in (["checkpoints", "report", "."], ["train"]):
        result = _light(work, *command, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "pip install 'vaeaudit[torch]'" in result.stderr
        assert "Traceback" not in result.stderr
        # Reading about the command needs no extra.
        assert _light(work, command[0], "--help", cwd=tmp_path).returncode == 0


def test_every_subpackage_is_listed_in_pyproject():
    """setuptools' list is explicit (folders map onto `vaeaudit.*`): a new sub-package must be added."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {
        ".".join((name, *init.parent.relative_to(REPO / folder).parts))
        for name, folder in config["package-dir"].items()
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert found == set(config["packages"])
