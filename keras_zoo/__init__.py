"""keras_zoo: Keras 3 layers and models from five papers that shaped deep learning.

``keras_zoo.layers`` and ``keras_zoo.models`` are what users build with;
``keras_zoo.ops`` holds pure tensor functions. ``keras_zoo.train`` and
``keras_zoo.export`` are imported explicitly: this module never imports them
(imports point one way, see DESIGN.md).

The three subpackages load on first use (``from keras_zoo import models`` or
``keras_zoo.models``), so that importing ``keras_zoo.train.cli`` for
``keras-zoo --help`` does not start TensorFlow.
"""

import importlib

__version__ = "0.1.0"

__all__ = ["layers", "models", "ops", "__version__"]

_SUBPACKAGES = ("layers", "models", "ops")


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_SUBPACKAGES])
