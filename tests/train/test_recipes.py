"""Recipes, schedules and the L2SGD optimizer against the paper's numbers."""

import keras
import numpy as np
import pytest

from keras_zoo.train import recipes
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.recipes import common, resnet_cifar
from keras_zoo.train.schedules import StepSchedule

CIFAR = recipes.get("resnet_cifar")

STEPS = (0, 399, 400, 31999, 32000, 47999, 48000, 63999)


def _lr(optimizer, step):
    """The rate the optimizer applies at its update number `step` (0-based)."""
    optimizer.iterations.assign(step)
    return float(optimizer.learning_rate)


@pytest.mark.parametrize("model, expected", [
    # He et al. 2015, Sec. 4.2: 0.1, /10 at 32k and 48k; ResNet-110 warms up at 0.01 for 400.
    ("resnet20", (0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001)),
    ("resnet110", (0.01, 0.01, 0.1, 0.1, 0.01, 0.01, 0.001, 0.001)),
])
def test_resnet_cifar_learning_rates(model, expected):
    config = CIFAR.get_config(model)
    optimizer = resnet_cifar.make_optimizer(config, steps_per_epoch=391)
    np.testing.assert_allclose([_lr(optimizer, s) for s in STEPS], expected, rtol=1e-6)


def test_resnet_cifar_paper_defaults():
    config = CIFAR.get_config("resnet56")
    assert (config["batch_size"], config["steps"], config["momentum"], config["weight_decay"]) == (
        128, 64000, 0.9, 1e-4)
    # 64k iterations of batch 128: 164 epochs on the 50k training images, 182 on 45k.
    assert common.epochs_for(64000, 391) == 164  # ceil(50000 / 128) = 391 updates per epoch
    assert common.epochs_for(64000, 352) == 182  # ceil(45000 / 128)
    optimizer = resnet_cifar.make_optimizer(config, steps_per_epoch=391)
    assert isinstance(optimizer, L2SGD)
    assert (optimizer.momentum, optimizer.l2, optimizer.l2_names) == (0.9, 1e-4, ("kernel",))


def test_plateau_alternative_divides_by_ten():
    config = {**CIFAR.get_config("resnet110"), "schedule": "plateau", "plateau_patience": 1}
    optimizer = resnet_cifar.make_optimizer(config, steps_per_epoch=391)
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    plateau, warmup = [type(c).__name__ for c in CIFAR.callbacks(
        config, has_validation=True)][::-1]
    assert (plateau, warmup) == ("ReduceLROnPlateau", "Warmup")
    callback = CIFAR.callbacks(config, has_validation=True)[1]
    assert (callback.factor, callback.monitor) == (0.1, "val_loss")

    # A real run on a flat loss: warm-up at 0.01, then 0.1, then 0.01 after the plateau.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=resnet_cifar.make_optimizer(
        {**config, "warmup_steps": 3}, steps_per_epoch=2), loss="mse")
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(
        round(float(model.optimizer.learning_rate), 6)))
    x, y = np.zeros((4, 2), "float32"), np.ones((4, 1), "float32")  # constant loss: a plateau
    extra = CIFAR.callbacks({**config, "warmup_steps": 3}, has_validation=False)
    model.fit(x, y, batch_size=2, epochs=3, verbose=0, callbacks=[*extra, record])
    # Epoch 1: warm-up; epoch 2: the 4th update goes back to 0.1, then the loss has not
    # improved for 1 epoch (patience 1): epoch 3 runs at 0.1 / 10.
    # Rates set by assignment and read back, rounded to 6 digits (float32 holds ~7).
    assert seen == [0.01, 0.01, 0.01, 0.1, 0.01, 0.01]


def test_step_schedule_serialises_and_checks_arguments():
    schedule = StepSchedule([32000, 48000], [0.1, 0.01, 0.001], 400, 0.01)
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule))
    # The schedule selects one of its stored values (no arithmetic): exact.
    assert [float(restored(s)) for s in STEPS] == [float(schedule(s)) for s in STEPS]
    with pytest.raises(ValueError, match="len\\(values\\) == len\\(boundaries\\) \\+ 1"):
        StepSchedule([10], [0.1])
    with pytest.raises(ValueError, match="increasing"):
        StepSchedule([10, 5], [0.1, 0.01, 0.001])


def test_l2sgd_matches_numpy_reference():
    """g += l2 * w on kernels only, then Keras SGD momentum (m = mu m - lr g; w += m)."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.BatchNormalization()])
    optimizer = L2SGD(0.1, momentum=0.9, l2=0.01)
    weights = [v.numpy().copy() for v in model.trainable_variables]
    names = [v.name for v in model.trainable_variables]
    momenta = [np.zeros_like(w) for w in weights]
    rng = np.random.default_rng(0)
    for _ in range(3):
        grads = [rng.normal(size=w.shape).astype("float32") for w in weights]
        optimizer.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads],
                                      model.trainable_variables))
        for i, (g, name) in enumerate(zip(grads, names)):
            g = g + 0.01 * weights[i] if name == "kernel" else g
            momenta[i] = 0.9 * momenta[i] - 0.1 * g
            weights[i] = weights[i] + momenta[i]
    assert sorted(names) == ["beta", "bias", "gamma", "kernel"]
    for variable, expected in zip(model.trainable_variables, weights):
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6, atol=1e-6)
    restored = L2SGD.from_config(optimizer.get_config())
    assert (restored.l2, restored.l2_names, restored.momentum) == (0.01, ("kernel",), 0.9)
    with pytest.raises(ValueError, match="weight_decay=None"):
        L2SGD(weight_decay=1e-4)


def test_quickstart_recipe():
    config = recipes.get("quickstart").get_config()
    assert (config["dataset"], config["recipe"]) == ("digits", "quickstart")
    assert recipes.get("quickstart").get_config(tiny=True)["epochs"] == 1


def test_tiny_and_per_model_configuration():
    tiny = CIFAR.get_config("resnet110", tiny=True)
    assert (tiny["steps"], tiny["boundaries"], tiny["batch_size"], tiny["warmup_steps"]) == (
        40, [20, 30], 32, 5)
    assert CIFAR.get_config("resnet20", tiny=True)["warmup_steps"] == 0
    assert CIFAR.get_config("resnet1202")["warmup_steps"] == 400  # Sec. 4.2, as ResNet-110


@pytest.mark.parametrize("name", recipes.names())
def test_every_recipe_implements_the_protocol(name):
    """Each recipe is a `Recipe` named after its module, with the keys `run.train`
    reads, and JSON-serialisable configurations."""
    import json

    recipe = recipes.get(name)
    assert isinstance(recipe, recipes.Recipe) and recipe.name == name
    assert recipes.get(getattr(recipes, name)) is recipe  # the registry names modules
    for tiny in (False, True):
        config = recipe.get_config(None, tiny=tiny)
        assert {"recipe", "dataset", "batch_size", "epochs", "steps",
                "validation_split"} <= set(config)
        assert config["epochs"] is not None or config["steps"] is not None
        assert json.loads(json.dumps(config)) == config
    with pytest.raises(ValueError, match="Expected a recipe in concrete_vae, mask_rcnn, "
                       "mask_rcnn_tiny, quickstart"):
        recipes.get("nope")
