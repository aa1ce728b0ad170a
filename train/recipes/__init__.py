"""Training recipes: the papers' hyper-parameters, one small module each.

Each module's docstring gives the exact command and the expected result
(STYLE.md practice 9), and the module provides:

- ``get_config(model_name, *, tiny=False) -> dict``: JSON-serialisable
  hyper-parameters, at least ``recipe``, ``dataset``, ``batch_size``,
  ``epochs`` (or None with ``steps``: the number of updates, converted to
  epochs once the data size is known) and ``validation_split``.
  ``tiny=True`` gives a CPU smoke run.
- ``build_model(builder, data, config) -> keras.Model``: the model for
  `data` (an `ImageDataset`), from the registry's `builder`.
- ``compile_model(model, config, *, steps_per_epoch, jit_compile)``.
- ``callbacks(config, *, has_validation) -> list``: extra callbacks.

`keras_zoo.train.run.train` drives them; the registry
(`keras_zoo.train.registry`) says which recipe a model uses.
"""

from . import concrete_vae, quickstart, resnet_cifar, swapout

__all__ = ["concrete_vae", "quickstart", "resnet_cifar", "swapout"]
