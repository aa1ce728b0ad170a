"""The package installs under the keras_zoo name only, and the README's test
command is the one CI runs."""

import os
import re
import subprocess
import sys

import pytest

FORBIDDEN_IMPORT = re.compile(
    r"^\s*(from|import)\s+keras_zoo\.(train|export)\b"
    r"|^\s*from keras_zoo import .*\b(train|export)\b",
    flags=re.M)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.large
def test_non_editable_install_imports_all_four_subpackages(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), ROOT],
        check=True, cwd=tmp_path)
    assert not (target / "ops").exists(), "ops must not install as a top-level package"
    assert not (target / "train").exists(), "train must not install as a top-level package"
    assert not (target / "export").exists(), "export must not install as a top-level package"
    code = (
        "import keras_zoo, keras_zoo.ops, keras_zoo.train, keras_zoo.export, keras_zoo.layers, "
        "keras_zoo.models\n"
        "for m in (keras_zoo, keras_zoo.ops, keras_zoo.train, keras_zoo.export):\n"
        "    print(m.__file__)\n")
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env,
                         capture_output=True, text=True).stdout.split()
    assert len(out) == 4
    assert all(path.startswith(str(target)) for path in out), out


def _readme_commands():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    test_commands = [c for c in _readme_commands() if "pytest" in c]
    assert len(test_commands) == 1, "README must have exactly one test command"
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    assert test_commands[0] in ci


def test_imports_point_one_way():
    """keras_zoo/ (layers, models) and ops/ never import train or export."""
    offenders = []
    for top in ("keras_zoo", "ops"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(dirpath, name)
                    text = open(path, encoding="utf-8").read()
                    if re.search(FORBIDDEN_IMPORT, text):
                        offenders.append(path)
    assert not offenders, f"imports must point one way (DESIGN.md): {offenders}"
