"""MkDocs hook: let mkdocstrings read keras_zoo as it is installed.

``ops/``, ``train/`` and ``export/`` sit at the top of the repository but install as
``keras_zoo.ops``, ``keras_zoo.train`` and ``keras_zoo.export`` (setup.py
``package_dir``). mkdocstrings reads the source without importing it (griffe's static
analysis), looking for ``keras_zoo.train`` in the folder ``keras_zoo/train``, which does
not exist. Before the build this hook lays out the installed tree in a temporary folder,
of symbolic links only (``keras_zoo/*`` plus ``keras_zoo/ops`` -> ``ops/`` ...), and
points the Python handler there. It also roots the snippets (``--8<--``) at the
repository.

Two griffe extensions (mkdocs.yml): `DoctestFences` shows the docstrings' examples as
code: they are written as doctest lines under "Example:" (``>>> model = ResNet20()``),
which Markdown would read as nested quotes and reference links. `GeneratedFactories`
documents the ResNet factories (``ResNet20 = _make("resnet20")``), whose signature and
docstring exist only once the module has run: it imports that one module.
"""

import atexit
import importlib
import os
import shutil
import tempfile

import griffe
from mkdocs.plugins import event_priority

ROOT = os.path.dirname(os.path.abspath(__file__))
SUBPACKAGE_DIRS = {"ops": "ops", "train": "train", "export": "export"}  # as setup.py's


def installed_layout(folder):
    """Fills `folder` with ``keras_zoo/``, whose entries link to the repository's files."""
    package = os.path.join(folder, "keras_zoo")
    os.makedirs(package)
    for name in os.listdir(os.path.join(ROOT, "keras_zoo")):
        os.symlink(os.path.join(ROOT, "keras_zoo", name), os.path.join(package, name))
    for name, directory in SUBPACKAGE_DIRS.items():
        os.symlink(os.path.join(ROOT, directory), os.path.join(package, name))


@event_priority(100)  # before mkdocstrings reads its handlers' configuration
def on_config(config):
    folder = tempfile.mkdtemp(prefix="keras_zoo-docs-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    installed_layout(folder)
    handlers = config.plugins["mkdocstrings"].config.setdefault("handlers", {})
    handlers.setdefault("python", {})["paths"] = [folder]
    # Snippets (docs/benchmarks.md includes bench/README.md) are found from the repository
    # root, wherever mkdocs runs.
    config["mdx_configs"].setdefault("pymdownx.snippets", {})["base_path"] = [ROOT]
    return config


def fence_doctests(text):
    """`text` with each run of doctest lines (``>>> ...``, its ``...`` continuations and
    the output lines up to a blank line) inside a ```python fence of the same indentation."""
    out, in_fence, indent = [], False, None  # indent: the open doctest run's, or None
    for line in text.split("\n"):
        stripped = line.lstrip()
        if indent is not None and (not stripped or len(line) - len(stripped) < len(indent)):
            out.append(indent + "```")
            indent = None
        if stripped.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and indent is None and stripped.startswith(">>>"):
            indent = line[:len(line) - len(stripped)]
            out.append(indent + "```python")
        out.append(line)
    if indent is not None:
        out.append(indent + "```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fences the doctest examples of every docstring (`fence_doctests`)."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)


class GeneratedFactories(griffe.Extension):
    """Replaces the ResNet factories' static entries (module attributes) by the functions
    the imported module holds, with their signatures and docstrings."""

    MODULE = "keras_zoo.models.resnet.factories"

    def on_module(self, *, mod, **kwargs):
        if mod.path != self.MODULE:
            return
        factories = importlib.import_module(self.MODULE).FACTORIES
        inspected = griffe.inspect(self.MODULE, filepath=mod.filepath)
        for factory in factories.values():
            function = inspected.members[factory.__name__]
            if function.docstring is not None:  # parsed as the loader parses the others
                function.docstring.value = fence_doctests(function.docstring.value)
                function.docstring.parser = mod.docstring.parser
                function.docstring.parser_options = mod.docstring.parser_options
            mod.set_member(factory.__name__, function)
