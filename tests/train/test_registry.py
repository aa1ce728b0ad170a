"""The registry's table: the parameter counts `keras-zoo models` prints are the built
models' counts, and its Swapout rows are the paper's configurations."""

import keras
import numpy as np
import pytest

from keras_zoo.models.resnet import VARIANTS
from keras_zoo.train import registry


@pytest.mark.large
@pytest.mark.parametrize("name", list(registry.MODELS))
def test_parameter_counts_are_the_built_models(name):
    entry = registry.get(name)
    with keras.StatelessScope():  # shapes only: no initial values drawn (about 2x faster)
        model = entry.builder()
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert (model.count_params(), trainable) == (entry.params, entry.trainable_params)


def test_swapout_rows_are_the_models_variants():
    rows = {name.replace("-", "_"): entry.kwargs for name, entry in registry.MODELS.items()
            if entry.factory == "SwapoutResNet"}
    assert set(rows) == {name for name in VARIANTS
                         if name.startswith(("swapout_", "stochastic_depth_"))}
    for name, kwargs in rows.items():
        row = VARIANTS[name]
        assert row["merge"]["kind"] == kwargs["merge"], name
        assert row["stage_blocks"] == ((kwargs["depth"] - 2) // 6,) * 3, name
        assert row["stage_filters"] == tuple(f * kwargs["width"] for f in (16, 32, 64)), name


def test_every_row_names_a_factory_and_a_recipe():
    from keras_zoo import models
    from keras_zoo.train import datasets, run

    for name, entry in registry.MODELS.items():
        assert callable(getattr(models, entry.factory)), name
        assert entry.recipe_name in run.recipe_names(), name
        assert entry.dataset is None or entry.dataset in datasets.NAMES, name
