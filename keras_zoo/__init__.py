"""keras_zoo: Keras 3 layers and models from five papers that shaped deep learning.

``keras_zoo.layers`` and ``keras_zoo.models`` are what users build with;
``keras_zoo.ops`` holds pure tensor functions. ``keras_zoo.train`` and
``keras_zoo.export`` are imported explicitly: this module never imports them
(imports point one way, see DESIGN.md).
"""

from keras_zoo import layers, models, ops

__version__ = "0.1.0"

__all__ = ["layers", "models", "ops", "__version__"]
