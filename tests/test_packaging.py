"""The package installs under the keras_zoo name only, imports point one way
(DESIGN.md), and the README's test command is the one CI runs."""

import ast
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Folder -> installed package (setup.py package_dir).
PACKAGE_DIRS = {"keras_zoo": "keras_zoo", "ops": "keras_zoo.ops", "train": "keras_zoo.train",
                "export": "keras_zoo.export"}
KERAS = ("keras", "tf_keras", "tensorflow.keras")
# DESIGN.md: keras_zoo.ops <- layers <- models <- train -> export, and under all of them
# keras_zoo.checks (argument checks every room may import). What each room must not
# import (a name or any module below it).
ROOMS = ("keras_zoo.ops", "keras_zoo.layers", "keras_zoo.models", "keras_zoo.train",
         "keras_zoo.export")
FORBIDDEN = {
    "keras_zoo.checks": KERAS + ("tensorflow", "numpy") + ROOMS,
    "keras_zoo.ops": KERAS + ("keras_zoo.layers", "keras_zoo.models", "keras_zoo.train",
                              "keras_zoo.export"),
    "keras_zoo.layers": ("keras_zoo.models", "keras_zoo.train", "keras_zoo.export"),
    "keras_zoo.models": ("keras_zoo.train", "keras_zoo.export"),
    "keras_zoo.export": ("keras_zoo.train", "keras_zoo.models", "keras_zoo.layers"),
    "keras_zoo": ("keras_zoo.train", "keras_zoo.export"),  # keras_zoo/__init__.py
}


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


def _module_name(path):
    """`ops/levels.py` -> `keras_zoo.ops.levels`; `keras_zoo/__init__.py` -> `keras_zoo`."""
    parts = os.path.relpath(path, ROOT)[:-len(".py")].split(os.sep)
    parts = PACKAGE_DIRS[parts[0]].split(".") + parts[1:]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source, module, is_package=False):
    """Every module `source` (the text of `module`) imports, function-local imports
    included: `import a.b` gives a.b; `from a import b` gives a and a.b (b may be a
    submodule); relative imports are resolved against `module`'s package."""
    package = module if is_package else module.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def _room(module):
    """The longest FORBIDDEN key that is `module` or a package above it."""
    rooms = [r for r in FORBIDDEN if module == r or module.startswith(r + ".")]
    return max(rooms, key=len) if rooms else None


def _is_below(name, prefix):
    return name == prefix or name.startswith(prefix + ".")


def test_import_parser_sees_every_form():
    source = ("import keras\nfrom . import boxes\nfrom ..train import cli\n"
              "def f():\n    from keras_zoo import export\n")
    names = imported_modules(source, "keras_zoo.ops.nms")
    assert {"keras", "keras_zoo.ops.boxes", "keras_zoo.train.cli",
            "keras_zoo.export"} <= set(names)
    assert "keras_zoo.ops.seeds" in imported_modules("from .seeds import stateless_seed",
                                                     "keras_zoo.ops", is_package=True)


def test_imports_point_one_way():
    """ops imports neither keras nor an upper room; layers not models/train/export;
    models not train/export; export not train/models/layers; keras_zoo/__init__ not
    train/export; keras_zoo.checks nothing of keras_zoo, Keras or TensorFlow (DESIGN.md)."""
    offenders, checked = [], 0
    for top in ("keras_zoo", "ops", "export"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                path = os.path.join(dirpath, name)
                module = _module_name(path)
                room = _room(module)
                if room == "keras_zoo" and module != "keras_zoo":
                    continue  # keras_zoo/<other>: not a room of DESIGN.md
                with open(path, encoding="utf-8") as f:
                    imported = imported_modules(f.read(), module, name == "__init__.py")
                checked += 1
                offenders += [f"{os.path.relpath(path, ROOT)} imports {n} ({room} must not)"
                              for n in imported
                              if any(_is_below(n, bad) for bad in FORBIDDEN[room])]
    assert checked > 30  # every source file of the four rooms was read
    assert not offenders, "imports must point one way (DESIGN.md):\n" + "\n".join(offenders)
