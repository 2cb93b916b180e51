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
SOURCES = ["pyproject.toml", "README.md", "audit", "codemods", "ternary_vae", "templates"]


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
