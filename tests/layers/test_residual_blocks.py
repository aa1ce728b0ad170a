"""BasicBlock / BottleneckBlock: harness checks, a NumPy reference of the unit
equations (He et al. 2015 Eq. 1-2, He et al. 2016 Fig. 4e), shortcut options,
merge injection, mixed precision, MirroredStrategy and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.layers import BasicBlock, BottleneckBlock
from tests.harness import run_layer_test

# ---------------------------------------------------------------- NumPy reference


def np_conv(x, kernel, stride):
    """Conv with symmetric padding k//2 (torchvision's layout), float64."""
    k = kernel.shape[0]
    p = k // 2
    x = np.pad(x, [(0, 0), (p, p), (p, p), (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]  # [N, Ho, Wo, C, k, k]
    return np.einsum("nhwcij,ijcf->nhwf", windows, kernel)


def np_bn(x, bn):
    gamma, beta, mean, var = (np.asarray(w, "float64") for w in bn.get_weights())
    return gamma * (x - mean) / np.sqrt(var + bn.epsilon) + beta


def np_block(block, x):
    """Inference-mode reference written from the unit equations."""
    relu = lambda t: np.maximum(t, 0.0)  # noqa: E731
    specs = block._conv_specs(x.shape[-1])
    h, pre = x, None
    for i, ((_, _, stride), conv, bn) in enumerate(zip(specs, block.convs, block.bns)):
        kernel = np.asarray(conv.kernel, "float64")
        if block.preact:
            h = relu(np_bn(h, bn))
            if i == 0:
                pre = h
            h = np_conv(h, kernel, stride)
        else:
            h = np_bn(np_conv(h, kernel, stride), bn)
            h = relu(h) if i < len(specs) - 1 else h
    if block.shortcut == "none":
        return h if block.preact else relu(h)
    if block.shortcut_conv is not None:
        sc = np_conv(pre if block.preact else x, np.asarray(block.shortcut_conv.kernel, "float64"),
                     block.stride)
        sc = sc if block.shortcut_bn is None else np_bn(sc, block.shortcut_bn)
    else:
        sc = x[:, ::block.stride, ::block.stride]
        extra = h.shape[-1] - sc.shape[-1]
        sc = np.pad(sc, [(0, 0), (0, 0), (0, 0), (0, extra)])
    out = sc - h if isinstance(block.merge, keras.layers.Subtract) else sc + h
    return out if block.preact else relu(out)


def randomise_bn(layer, rng):
    for sub in layer._flatten_layers():
        if isinstance(sub, keras.layers.BatchNormalization):
            shape = sub.gamma.shape
            sub.set_weights([rng.uniform(0.5, 1.5, shape), rng.normal(0, 0.3, shape),
                             rng.normal(0, 0.3, shape), rng.uniform(0.5, 1.5, shape)])


CASES = [
    (BasicBlock, {"filters": 8}, 8, (2, 7, 7, 8)),
    (BasicBlock, {"filters": 16, "stride": 2, "shortcut": "zero_pad"}, 8, (2, 4, 4, 16)),
    (BasicBlock, {"filters": 16, "stride": 2}, 8, (2, 4, 4, 16)),
    (BasicBlock, {"filters": 16, "stride": 2, "preact": True}, 8, (2, 4, 4, 16)),
    (BasicBlock, {"filters": 8, "preact": True, "shortcut": "zero_pad"}, 8, (2, 7, 7, 8)),
    (BasicBlock, {"filters": 8, "stride": 2, "shortcut": "none"}, 4, (2, 4, 4, 8)),
    (BottleneckBlock, {"filters": 4, "stride": 2}, 8, (2, 4, 4, 16)),
    (BottleneckBlock, {"filters": 4, "stride": 2, "stride_on": "1x1", "bn_epsilon": 1e-3},
     8, (2, 4, 4, 16)),
    (BottleneckBlock, {"filters": 4, "preact": True}, 8, (2, 7, 7, 16)),
    (BottleneckBlock, {"filters": 2, "expansion": 2, "shortcut": "zero_pad", "stride": 2},
     3, (2, 4, 4, 4)),
]


@pytest.mark.parametrize("cls,kwargs,in_ch,out_shape", CASES)
def test_block_harness_and_numpy_reference(cls, kwargs, in_ch, out_shape, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 7, 7, in_ch)).astype("float32")
    run_layer_test(cls, kwargs, x, tmp_path, expected_output_shape=out_shape)
    block = cls(**kwargs)
    block(x)
    randomise_bn(block, rng)
    got = np.asarray(block(x, training=False))
    np.testing.assert_allclose(got, np_block(block, x.astype("float64")), atol=2e-5, rtol=1e-4)


def test_parameter_counts_follow_the_shortcut_option():
    x = np.zeros((1, 8, 8, 16), "float32")
    counts = {}
    for shortcut in ("zero_pad", "projection", "none"):
        block = BasicBlock(32, stride=2, shortcut=shortcut)
        block(x)
        counts[shortcut] = sum(int(np.prod(w.shape)) for w in block.trainable_weights)
    body = 3 * 3 * 16 * 32 + 3 * 3 * 32 * 32 + 2 * (2 * 32)  # two convs, two BN (gamma, beta)
    assert counts["zero_pad"] == counts["none"] == body  # option A is parameter-free
    assert counts["projection"] == body + 16 * 32 + 2 * 32  # option B: 1x1 conv + BN
    identity = BasicBlock(16, shortcut="projection")
    identity(x)
    assert identity.shortcut_conv is None  # projections only where the shape changes


def test_zero_pad_shortcut_is_subsampled_input_plus_zero_channels():
    # A block whose residual branch is exactly zero exposes the shortcut: y = relu(sc(x)).
    block = BasicBlock(6, stride=2, shortcut="zero_pad", kernel_initializer="zeros")
    x = np.abs(np.random.default_rng(1).normal(size=(1, 5, 5, 3))).astype("float32")
    block(x)
    for bn in block.bns:
        bn.set_weights([np.zeros(6), np.zeros(6), np.zeros(6), np.ones(6)])
    y = np.asarray(block(x, training=False))
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2])
    np.testing.assert_array_equal(y[..., 3:], 0.0)


def test_merge_layer_is_injected_and_serialised(tmp_path):
    x = np.random.default_rng(2).normal(size=(2, 6, 6, 8)).astype("float32")
    # Subtract makes the argument order visible: relu(shortcut - residual).
    out = run_layer_test(BasicBlock, {"filters": 8, "merge": keras.layers.Subtract()}, x,
                         tmp_path, expected_output_shape=(2, 6, 6, 8))
    block = BasicBlock(8, merge=keras.layers.Subtract())
    block(x)
    np.testing.assert_allclose(np.asarray(block(x)), np_block(block, x.astype("float64")),
                               atol=2e-5, rtol=1e-4)
    assert isinstance(BasicBlock.from_config(block.get_config()).merge, keras.layers.Subtract)
    assert out.shape == (2, 6, 6, 8)


def test_merge_receives_the_training_flag():
    seen = []

    class Probe(keras.layers.Add):
        def call(self, inputs, training=None):
            seen.append(training)
            return super().call(inputs)

    block = BasicBlock(4, merge=Probe())
    x = np.ones((1, 4, 4, 4), "float32")
    block(x, training=True)
    block(x, training=False)
    assert seen[-2:] == [True, False]


def test_gradients_reach_every_weight():
    block = BottleneckBlock(4, stride=2, preact=True)
    x = tf.constant(np.random.default_rng(3).normal(size=(2, 8, 8, 8)), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(block(x, training=True) ** 2)
    grads = tape.gradient(loss, block.trainable_weights + [x])
    assert len(grads) == len(block.trainable_weights) + 1
    for var, g in zip(block.trainable_weights + [x], grads):
        assert g is not None and float(tf.reduce_max(tf.abs(g))) > 0, var.name


def test_mixed_bfloat16():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        block = BottleneckBlock(4, stride=2, shortcut="zero_pad")
        y = block(np.ones((1, 8, 8, 8), "float32"), training=True)
        assert y.dtype == tf.bfloat16
        assert all(w.dtype == "float32" for w in block.weights)
        assert block.merge.compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_fit_inside_mirrored_strategy(mirrored_strategy):
    strategy = mirrored_strategy
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        inputs = keras.Input((8, 8, 4))
        x = BasicBlock(8, stride=2)(inputs)
        x = BottleneckBlock(2, preact=True)(x)
        outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(x))
        model = keras.Model(inputs, outputs)
        model.compile("sgd", "mse")
    rng = np.random.default_rng(4)
    history = model.fit(rng.normal(size=(8, 8, 8, 4)), rng.normal(size=(8, 1)), batch_size=4,
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    kernel = model.layers[1].convs[0].kernel.value
    assert len(strategy.experimental_local_results(kernel)) == 2  # mirrored on both devices


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 8, "shortcut": "option_a"}, "shortcut"),
    ({"filters": 0}, "filters"),
    ({"filters": 8, "stride": 0}, "stride"),
    ({"filters": 8, "merge": "add"}, "merge"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BasicBlock(**kwargs)


def test_bad_bottleneck_arguments_and_shrinking_zero_pad():
    with pytest.raises(ValueError, match="stride_on"):
        BottleneckBlock(4, stride_on="7x7")
    with pytest.raises(ValueError, match="Expected out channels >= in channels"):
        BasicBlock(4, shortcut="zero_pad")(np.ones((1, 4, 4, 8), "float32"))
