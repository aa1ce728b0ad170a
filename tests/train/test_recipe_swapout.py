"""The Swapout recipe (Singh et al. 2016, Sec. 4) and its registry entries."""

import functools

import numpy as np

from keras_zoo import layers, models
from keras_zoo.train import datasets, recipes, registry
from keras_zoo.train.recipes import swapout

RECIPE = recipes.get("swapout")


def test_config_is_the_papers():
    config = RECIPE.get_config("swapout-32x4")
    assert config["batch_size"] == 128 and config["epochs"] == 256
    assert config["momentum"] == 0.9 and config["weight_decay"] == 1e-4
    assert config["learning_rate"] == 0.1 and config["stochastic_samples"] == 30
    tiny = RECIPE.get_config("swapout-32x4", tiny=True)
    assert tiny["epochs"] == 1 and tiny["batch_size"] == 32


def test_learning_rate_drops_after_epochs_192_and_224():
    config = RECIPE.get_config()
    per_epoch = 391  # ceil(50000 / 128)
    model = models.SwapoutResNet(8, 1)
    RECIPE.compile_model(model, config, steps_per_epoch=per_epoch)
    schedule = model.optimizer._learning_rate  # the StepSchedule (Keras keeps it private)
    for step, expected in [(0, 0.1), (192 * per_epoch - 1, 0.1), (192 * per_epoch, 0.01),
                           (224 * per_epoch - 1, 0.01), (224 * per_epoch, 0.001)]:
        np.testing.assert_allclose(float(schedule(step)), expected, rtol=1e-6)
    assert model.optimizer.l2 == 1e-4 and model.optimizer.momentum == 0.9


def test_registry_names_the_paper_nets_and_twins():
    entry = registry.get("swapout-32x4")
    assert entry.recipe is swapout and entry.dataset == "cifar10"
    assert entry.builder.keywords == {"depth": 32, "width": 4, "merge": "swapout"}
    twin = registry.get("stochastic-depth-20x2")
    assert twin.builder.keywords == {"depth": 20, "width": 2, "merge": "stochastic_depth"}


def test_build_model_normalises_a_one_channel_dataset():
    data = datasets.load("digits")
    builder = functools.partial(models.SwapoutResNet, depth=8, width=1, merge="swapout")
    model = RECIPE.build_model(builder, data, RECIPE.get_config(tiny=True))
    norm = model.get_layer("normalization")
    assert norm.per_pixel_mean
    np.testing.assert_allclose(np.asarray(norm.pixel_mean.numpy()),
                               data.x_train.astype("float64").mean(0), atol=1e-3)
    assert all(isinstance(m, layers.Swapout) for m in models.stochastic_inference
               .stochastic_layers(model))
    assert model.output_shape == (None, data.num_classes)
