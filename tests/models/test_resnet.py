"""ResNet family: parameter counts against the paper and torchvision, variants,
backbone pyramid and its layer names, the config value, injected normalisation,
freeze_at, serialisation, mixed precision, errors, keras.applications interop."""

import inspect
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import layers, models
from keras_zoo.models import resnet
from tests.harness import run_model_test


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


# He et al. 2015 Table 6 (0.27M ... 19.4M), exact for option A: PAPERS.md.
CIFAR_COUNTS = [
    ("ResNet20", 269_722), ("ResNet32", 464_154), ("ResNet44", 658_586),
    ("ResNet56", 853_018), ("ResNet110", 1_727_962),
    pytest.param("ResNet1202", 19_421_274, marks=pytest.mark.large),  # ~25 s to build
]
# torchvision's resnet18 ... resnet152 (bias-free convs, option B, 1000 classes).
IMAGENET_COUNTS = [
    ("ResNet18", 11_689_512), ("ResNet34", 21_797_672), ("ResNet50", 25_557_032),
    pytest.param("ResNet101", 44_549_160, marks=pytest.mark.large),
    pytest.param("ResNet152", 60_192_808, marks=pytest.mark.large),
]


@pytest.mark.parametrize("factory,expected", CIFAR_COUNTS + IMAGENET_COUNTS)
def test_trainable_parameter_counts(factory, expected):
    # A StatelessScope defers variable initialisation (shapes only): half the build time.
    with keras.StatelessScope():
        model = getattr(models, factory)()
    assert trainable_count(model) == expected


def test_cifar_shortcut_options_and_plain_twin():
    option_b = models.ResNet20(shortcut="projection")
    # Two projections (16->32, 32->64), each a 1x1 conv plus BN gamma/beta.
    assert trainable_count(option_b) == 269_722 + (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    plain = models.ResNet20(plain=True, classifier_activation=None)
    blocks = [layer for layer in plain.layers if isinstance(layer, keras.layers.Layer)
              and layer.name.startswith("stage")]
    assert len(blocks) == 9 and all(b.shortcut == "none" for b in blocks)
    assert trainable_count(plain) == 269_722  # option A shortcuts have no parameters
    residual = models.ResNet20(classifier_activation=None)  # logits: softmax may saturate
    plain.set_weights(residual.get_weights())  # same weights, only the shortcuts differ
    x = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    assert not np.allclose(residual.predict(x, verbose=0), plain.predict(x, verbose=0))
    # Pre-activation moves one BN per block before its conv; He et al. 2016 adds a final
    # BN (64) and drops the stem BN (16); the first BN of each widening block sees the
    # narrower input (16 instead of 32, 32 instead of 64).
    preact = models.ResNet20(preact=True)
    assert trainable_count(preact) == 269_722 + 2 * (64 - 16) - 2 * (16 + 32)


def test_cifar_round_trip_fit_and_per_pixel_mean(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (4, 32, 32, 3)).astype("uint8")
    y = rng.integers(0, 10, (4,))
    model = models.ResNet20(kernel_regularizer=keras.regularizers.L2(1e-4))
    model.get_layer("normalization").adapt(x)
    np.testing.assert_allclose(np.asarray(model.get_layer("normalization").pixel_mean),
                               x.mean(axis=0), rtol=1e-6)
    assert len(model.losses) == 19 + 1  # weight decay on every kernel, FC included
    restored = run_model_test(model, x, y, tmp_path, loss="sparse_categorical_crossentropy")
    # Exact: a weight is copied through the file.
    np.testing.assert_array_equal(np.asarray(restored.get_layer("normalization").pixel_mean),
                                  np.asarray(model.get_layer("normalization").pixel_mean))


def test_imagenet_preact_round_trip(tmp_path):
    model = models.ResNet18(num_classes=5, input_shape=(32, 32, 3), preact=True)
    x = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    run_model_test(model, x, np.array([0, 3]), tmp_path, loss="sparse_categorical_crossentropy")


def test_backbone_pyramids():
    backbone = models.ResNetBackbone.from_variant("resnet50", input_shape=(64, 96, 3))
    shapes = {k: tuple(v.shape) for k, v in backbone.output.items()}
    assert shapes == {"C2": (None, 16, 24, 256), "C3": (None, 8, 12, 512),
                      "C4": (None, 4, 6, 1024), "C5": (None, 2, 3, 2048)}
    dynamic = models.ResNetBackbone.from_variant("resnet18", preact=True)  # (None, None, 3) input
    out = dynamic(np.zeros((1, 64, 32, 3), "float32"))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "C2": (1, 16, 8, 64), "C3": (1, 8, 4, 128), "C4": (1, 4, 2, 256), "C5": (1, 2, 1, 512)}
    cifar = models.ResNetBackbone.from_variant("resnet20")
    assert {k: tuple(v.shape) for k, v in cifar.output.items()} == {
        "C0": (None, 32, 32, 16), "C1": (None, 16, 16, 32), "C2": (None, 8, 8, 64)}


def test_stride_on_moves_the_stride_not_the_parameters():
    v15 = models.ResNetBackbone.from_variant("resnet50", input_shape=(32, 32, 3))
    v1 = models.ResNetBackbone.from_variant("resnet50", input_shape=(32, 32, 3), stride_on="1x1")
    assert trainable_count(v15) == trainable_count(v1)
    assert v15.get_layer("conv3_block1").convs[1].strides == (2, 2)
    assert v1.get_layer("conv3_block1").convs[0].strides == (2, 2)


def test_merges_give_each_block_its_merge_layer_and_serialise(tmp_path):
    merges = [None] * 8 + [keras.layers.Maximum(name="merge")]
    model = models.ResNet20(merges=merges)
    assert isinstance(model.get_layer("stage3_block3").merge, keras.layers.Maximum)
    assert isinstance(model.get_layer("stage3_block2").merge, keras.layers.Add)
    config = model.backbone.get_config()["merges"]
    assert config[:8] == [None] * 8 and config[8]["class_name"] == "Maximum"
    model.save(tmp_path / "merges.keras")
    restored = keras.saving.load_model(tmp_path / "merges.keras")
    assert isinstance(restored.get_layer("stage3_block3").merge, keras.layers.Maximum)
    with pytest.raises(ValueError, match=r"one merge per block \(9\). Received: 2 merges"):
        models.ResNet20(merges=[None, None])


def test_mixed_bfloat16_keeps_float32_probabilities():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = models.ResNet20(input_shape=(16, 16, 3))
        probs = model(np.ones((2, 16, 16, 3), "float32"), training=False)
        assert model.get_layer("stage1_block1").compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert probs.dtype == tf.float32
    # A float32 softmax over 10 classes sums to 1 within ~10 ulps (eps = 1.19e-7).
    np.testing.assert_allclose(np.asarray(probs).sum(axis=-1), 1.0, atol=1e-6)


def test_gradients_reach_every_trainable_weight():
    model = models.ResNet20(input_shape=(8, 8, 3), classifier_activation=None)
    x = tf.constant(np.random.default_rng(3).uniform(0, 255, (2, 8, 8, 3)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x, training=True) ** 2)
    grads = tape.gradient(loss, model.trainable_weights)
    for var, grad in zip(model.trainable_weights, grads):
        assert grad is not None and float(tf.reduce_max(tf.abs(grad))) > 0, var.path


def test_backbone_layer_names_stay_what_weight_interop_relies_on():
    # models/resnet/keras_applications.py and Mask R-CNN's from_torchvision find layers so.
    backbone = models.ResNetBackbone.from_variant("resnet50", input_shape=(32, 32, 3),
                                                  norm_layer="frozen")
    blocks = [f"conv{level}_block{j}" for level, n in zip(range(2, 6), (3, 4, 6, 3))
              for j in range(1, n + 1)]
    assert [layer.name for layer in backbone.layers] == [
        "images", "normalization", "conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu",
        "pool1_pad", "pool1_pool", *blocks]
    block = backbone.get_layer("conv3_block1")
    assert [c.name for c in block.convs] == ["conv1", "conv2", "conv3"]
    assert [b.name for b in block.bns] == ["bn1", "bn2", "bn3"]
    assert (block.shortcut_conv.name, block.shortcut_bn.name) == ("shortcut_conv", "shortcut_bn")
    preact = [layer.name
              for layer in models.ResNetBackbone.from_variant("resnet18", preact=True).layers]
    assert preact[-2:] == ["post_bn", "post_relu"] and "conv1_bn" not in preact
    cifar = [layer.name for layer in models.ResNet20().layers]
    assert cifar == ["images", "normalization", "conv1_conv", "conv1_bn", "conv1_relu",
                     *[f"stage{s}_block{j}" for s in (1, 2, 3) for j in (1, 2, 3)],
                     "avg_pool", "fc", "predictions"]


def test_factories_have_explicit_signatures_with_the_paper_defaults():
    families = {
        models.ResNet20: {"num_classes": 10, "input_shape": (32, 32, 3),  # Sec. 4.2
                          "shortcut": "zero_pad", "normalization": "per_pixel"},
        models.ResNet50: {"num_classes": 1000, "input_shape": (224, 224, 3),  # Table 1
                          "shortcut": "projection", "normalization": "torch"},
    }
    for factory, paper in families.items():
        params = inspect.signature(factory).parameters
        assert {name: params[name].default for name in paper} == paper
        assert params["norm_layer"].default == "batch" and params["freeze_at"].default == 0
        assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params.values())
    assert [models.ResNet50.__name__, models.ResNet1202.__name__] == ["ResNet50", "ResNet1202"]
    assert all(getattr(models, f.__name__) is f for f in resnet.FACTORIES.values())


def test_the_constructor_arguments_are_the_config():
    backbone = models.ResNetBackbone.from_variant("resnet18", input_shape=(32, 32, 3),
                                                  preact=True, width=2, norm_layer="frozen",
                                                  freeze_at=3)
    config = backbone.get_config()
    assert (config["stem"], config["block"], config["stage_blocks"]) == ("imagenet", "basic",
                                                                         (2, 2, 2, 2))
    assert config["stage_filters"] == (128, 256, 512, 1024) and config["stem_filters"] == 128
    assert (config["shortcut"], config["normalization"]) == ("projection", "torch")  # Sec. 3.3
    assert config["input_shape"] == (32, 32, 3) and config["freeze_at"] == 3
    built = models.ResNetBackbone(**config)  # the config is the constructor's arguments
    assert [layer.name for layer in built.layers] == [layer.name for layer in backbone.layers]
    assert trainable_count(built) == trainable_count(backbone) > 0
    assert built.get_config() == config
    classifier = models.ImageClassifier(backbone, 7, classifier_activation=None)
    assert classifier.backbone is backbone and classifier.output_shape == (None, 7)
    assert models.ImageClassifier.from_config(classifier.get_config()).count_params() == (
        classifier.count_params())


def normalisations(model):
    """Every normalisation layer of a ResNet-family model: stem, blocks, final."""
    found = []
    for layer in model.layers:
        if isinstance(layer, (layers.BasicBlock, layers.BottleneckBlock)):
            found += layer.bns + [layer.shortcut_bn] * (layer.shortcut_bn is not None)
        elif isinstance(layer, (keras.layers.BatchNormalization, layers.FrozenBatchNormalization)):
            found.append(layer)
    return found


FAMILY = {
    "ResNet20": lambda **kw: models.ResNet20(input_shape=(8, 8, 3), **kw),
    "ResNet18-preact": lambda **kw: models.ResNet18(num_classes=3, input_shape=(32, 32, 3),
                                                    preact=True, **kw),
    "ResNetBackbone50": lambda **kw: models.ResNetBackbone.from_variant(
        "resnet50", input_shape=(32, 32, 3), **kw),
    "WideResNet": lambda **kw: models.WideResNet(10, 1, input_shape=(8, 8, 3), **kw),
    "SwapoutResNet": lambda **kw: models.SwapoutResNet(8, 1, input_shape=(8, 8, 3), **kw),
}


@pytest.mark.parametrize("family", list(FAMILY))
def test_norm_layer_reaches_every_normalisation_of_every_factory(family):
    batch = FAMILY[family]()
    frozen = FAMILY[family](norm_layer="frozen")
    sync = FAMILY[family](norm_layer="sync")
    assert len(normalisations(frozen)) == len(normalisations(batch)) > 0
    assert all(type(n) is keras.layers.BatchNormalization and not n.synchronized
               for n in normalisations(batch))
    assert all(isinstance(n, layers.FrozenBatchNormalization) for n in normalisations(frozen))
    assert all(n.synchronized for n in normalisations(sync))
    # Frozen statistics and affine maps: only the convolutions (and the FC) train.
    affine = sum(2 * int(n.gamma.shape[0]) for n in normalisations(batch))
    assert trainable_count(sync) == trainable_count(batch)
    assert trainable_count(frozen) == trainable_count(batch) - affine


def _bottleneck_stage(blocks, in_channels, width):
    """Trainable parameters of one torchvision bottleneck stage: bias-free 1x1-3x3-1x1
    convs, BN gamma/beta, a 1x1 projection (with BN) in the first block (Table 1)."""
    out = 4 * width
    body = width * width * 9 + width * out + 2 * (2 * width + out)
    return (in_channels * width + in_channels * out + 2 * out + body
            + (blocks - 1) * (out * width + body))


# ResNet-50 (Table 1): the stem (7x7/2 conv, BN), conv2_x ... conv5_x.
RESNET50_STEM = 7 * 7 * 3 * 64 + 2 * 64
RESNET50_STAGES = [_bottleneck_stage(3, 64, 64), _bottleneck_stage(4, 256, 128),
                   _bottleneck_stage(6, 512, 256), _bottleneck_stage(3, 1024, 512)]


@pytest.mark.parametrize("freeze_at", range(6))
def test_freeze_at_trainable_counts_of_resnet50(freeze_at):
    total = RESNET50_STEM + sum(RESNET50_STAGES) + 2048 * 1000 + 1000
    assert total == 25_557_032  # the reference layout is torchvision's count
    frozen = (RESNET50_STEM if freeze_at else 0) + sum(RESNET50_STAGES[:max(0, freeze_at - 1)])
    with keras.StatelessScope():
        model = models.ResNet50(freeze_at=freeze_at)
    assert trainable_count(model) == total - frozen


def test_freeze_at_keeps_frozen_weights_through_fit_and_round_trip(tmp_path):
    """freeze_at=2 (torchvision's trainable_backbone_layers=3): the stem and conv2_x keep
    every weight, their BN statistics included (inference mode); the rest trains."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 3, (4,))
    model = models.ResNet50(num_classes=3, input_shape=(32, 32, 3), freeze_at=2,
                            classifier_activation=None)
    path = os.path.join(tmp_path, "frozen.keras")
    model.save(path)
    frozen_names = {"conv1_conv", "conv1_bn", "conv2_block1", "conv2_block2", "conv2_block3"}
    for net in (model, keras.saving.load_model(path)):
        assert trainable_count(net) == trainable_count(model)
        before = {w.path: np.array(w) for w in net.weights}
        net.compile(keras.optimizers.SGD(0.01),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        net.fit(x, y, batch_size=4, verbose=0)
        for w in net.weights:
            layer = w.path.split("/")[0]
            if layer in frozen_names:  # never assigned: the same bits
                np.testing.assert_array_equal(np.array(w), before[w.path], err_msg=w.path)
            elif w.trainable or "moving" in w.path:
                assert np.abs(np.array(w) - before[w.path]).max() > 0, w.path


def test_freeze_at_on_a_cifar_backbone():
    full = trainable_count(models.ResNetBackbone.from_variant("resnet20"))
    assert trainable_count(models.ResNetBackbone.from_variant("resnet20", freeze_at=1)) == (
        full - (3 * 3 * 3 * 16 + 2 * 16))  # the 3x3/16 stem conv and its BN
    assert trainable_count(models.ResNetBackbone.from_variant("resnet20", freeze_at=4)) == 0


@pytest.mark.parametrize("call,match", [
    (lambda: models.ResNet50(freeze_at=6),
     r"Expected `freeze_at` to be an int in \[0, 5\].*Received: freeze_at=6"),
    (lambda: models.ResNetBackbone.from_variant("resnet20", freeze_at=-1),
     r"Expected `freeze_at` to be an int in \[0, 4\].*Received: freeze_at=-1"),
    (lambda: models.ResNet18(freeze_at=True), r"Received: freeze_at=True"),
    (lambda: models.ResNet20(norm_layer="group"),
     r"Expected `norm_layer` to be one of \('batch', 'frozen', 'sync'\)"),
    (lambda: models.ResNet20(width=0), r"Expected `width` to be a positive int"),
    (lambda: models.ResNetBackbone.from_variant("resnet21"),
     r"resnet20.*resnet1202.*resnet18.*resnet152"),
    (lambda: models.ResNet50(input_shape=(224, 224)), r"Expected input_shape=.*\(224, 224, 3\)"),
    (lambda: models.ResNet50(input_shape=(16, 16, 3)), r"height, width >= 32"),
    (lambda: models.ResNet50(input_shape=(64, 64, 1)), r"channels 3"),
    (lambda: models.ResNet20(input_shape=(None, None, 3)), r"\(32, 32, 3\)"),
    (lambda: models.ResNet20(num_classes=0), "num_classes"),
    (lambda: models.ResNet20(normalization="imagenet"), "normalization"),
    (lambda: models.ResNet20(shortcut="B"), "shortcut"),
    (lambda: models.ResNet50(stride_on="7x7"), "stride_on"),
])
def test_user_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _randomised_keras_applications_resnet50(rng):
    theirs = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=7,
                                         classifier_activation=None)
    for layer in theirs.layers:  # non-trivial biases and statistics, so folding is exercised
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.gamma.shape
            layer.set_weights([rng.uniform(0.5, 1.5, shape), rng.normal(0, 0.2, shape),
                               rng.normal(0, 0.5, shape), rng.uniform(0.5, 2.0, shape)])
        elif isinstance(layer, keras.layers.Conv2D):
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.5, bias.shape)])
    return theirs


@pytest.mark.large
def test_keras_applications_interop_both_ways():
    rng = np.random.default_rng(4)
    theirs = _randomised_keras_applications_resnet50(rng)
    raw = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    expected = theirs.predict(keras.applications.resnet.preprocess_input(raw.copy()), verbose=0)
    assert np.abs(expected).max() > 1.0  # logits on a scale where 1e-5 is meaningful

    ours = resnet.from_keras_applications(theirs)
    assert ours.get_layer("conv3_block1").stride_on == "1x1"
    got = ours.predict(raw, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)

    # Without the folding (biases dropped) the outputs would differ: the test has teeth.
    ours.get_layer("conv1_bn").moving_mean.assign(theirs.get_layer("conv1_bn").moving_mean)
    assert not np.allclose(ours.predict(raw, verbose=0), expected, rtol=1e-3, atol=1e-3)

    back = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=7,
                                       classifier_activation=None)
    resnet.load_from_keras_applications(ours, theirs)
    resnet.copy_to_keras_applications(ours, back)
    got_back = back.predict(keras.applications.resnet.preprocess_input(raw.copy()), verbose=0)
    np.testing.assert_allclose(got_back, expected, rtol=1e-5, atol=1e-5)

    with pytest.raises(ValueError, match="stride_on='1x1'"):
        resnet.load_from_keras_applications(
            models.ResNet50(num_classes=7, input_shape=(32, 32, 3), normalization="caffe"), theirs)
    with pytest.raises(ValueError, match="normalization='caffe'"):
        resnet.load_from_keras_applications(
            models.ResNet50(num_classes=7, input_shape=(32, 32, 3), stride_on="1x1"), theirs)
