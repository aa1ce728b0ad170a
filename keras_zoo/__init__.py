"""keras_zoo: Keras 3 layers and models from five papers that shaped deep learning.

``keras_zoo.layers`` and ``keras_zoo.models`` are what users build with;
``keras_zoo.ops`` holds pure tensor functions. ``keras_zoo.train`` and
``keras_zoo.export`` are imported explicitly: this module never imports them
(imports point one way, see DESIGN.md).

The three subpackages load on first use (``from keras_zoo import models`` or
``keras_zoo.models``), so that importing ``keras_zoo.train.cli`` for
``keras-zoo --help`` does not start TensorFlow. Yet every keras_zoo class must be
registered wherever Keras deserialises (``keras.saving.load_model`` of a checkpoint, a
``.keras`` file, a preset), as after ``import keras_hub``: so ``import keras_zoo``
imports ``keras_zoo.models`` at once when Keras is already imported, and otherwise
right after Keras's own import finishes (`_RegisterAfterKeras`, an import hook that
removes itself once it has run).
"""

import importlib
import importlib.abc
import sys

__version__ = "0.1.0"

__all__ = ["layers", "models", "ops", "__version__"]

_SUBPACKAGES = ("layers", "models", "ops")


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBPACKAGES])


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when the top-level ``keras`` module is imported, it wraps the
    loader that would load it so that ``keras_zoo.models`` (which registers every keras_zoo
    class for deserialisation) is imported once ``keras`` has finished executing."""

    def __init__(self):
        self._looking = False

    def find_spec(self, fullname, path=None, target=None):
        # `importlib.util.find_spec("keras")` (TensorFlow's import calls it) asks too,
        # without loading: the hook stays until a spec it wrapped is executed.
        if fullname != "keras" or self._looking:
            return None
        import importlib.util

        self._looking = True
        try:
            spec = importlib.util.find_spec("keras")
        finally:
            self._looking = False
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            importlib.import_module(f"{__name__}.models")

        spec.loader = _Loader(spec.loader, exec_then_register)
        return spec


class _Loader(importlib.abc.Loader):
    """`loader` with its ``exec_module`` replaced."""

    def __init__(self, loader, exec_module):
        self._loader, self._exec_module = loader, exec_module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._exec_module(module)

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


if "keras" in sys.modules:
    importlib.import_module(f"{__name__}.models")
elif not any(isinstance(finder, _RegisterAfterKeras) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterAfterKeras())
