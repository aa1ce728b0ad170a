"""BasicBlock / BottleneckBlock: harness checks, a NumPy reference of the unit
equations (He et al. 2015 Eq. 1-2, He et al. 2016 Fig. 4e), shortcut options,
merge and normalisation injection, frozen blocks, mixed precision, MirroredStrategy
(synchronised statistics) and errors."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.layers import BasicBlock, BottleneckBlock, FrozenBatchNormalization
from tests.harness import run_layer_test

EPS32 = float(np.finfo(np.float32).eps)

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
        if isinstance(sub, (keras.layers.BatchNormalization, FrozenBatchNormalization)):
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
    (BasicBlock, {"filters": 16, "stride": 2, "norm_layer": "frozen"}, 8, (2, 4, 4, 16)),
    (BottleneckBlock, {"filters": 4, "preact": True, "norm_layer": "sync"}, 8, (2, 7, 7, 16)),
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
    # Exact: the residual branch is exactly zero (zero kernels, gamma and beta), and
    # relu(x + 0) reproduces the bits of x >= 0.
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


@pytest.mark.parametrize("norm_layer, cls, synchronized", [
    ("batch", keras.layers.BatchNormalization, False),
    ("frozen", FrozenBatchNormalization, None),
    ("sync", keras.layers.BatchNormalization, True),
])
def test_norm_layer_is_injected_into_every_normalisation(norm_layer, cls, synchronized):
    block = BottleneckBlock(4, stride=2, norm_layer=norm_layer, bn_epsilon=1e-3)
    block(np.ones((1, 8, 8, 8), "float32"))
    norms = block.bns + [block.shortcut_bn]
    assert all(type(n) is cls and n.epsilon == 1e-3 for n in norms)
    if synchronized is not None:
        assert all(n.synchronized == synchronized for n in norms)
    assert BottleneckBlock.from_config(block.get_config()).norm_layer == norm_layer
    convs = sum(int(np.prod(c.kernel.shape)) for c in block.convs + [block.shortcut_conv])
    trainable = sum(int(np.prod(w.shape)) for w in block.trainable_weights)
    # Frozen normalisation trains nothing: only the convolution kernels train.
    assert (trainable == convs) == (norm_layer == "frozen")


def test_frozen_norm_layer_gives_one_map_in_training_and_inference():
    rng = np.random.default_rng(5)
    block = BasicBlock(8, stride=2, norm_layer="frozen")
    x = rng.normal(size=(2, 6, 6, 4)).astype("float32")
    block(x)
    randomise_bn(block, rng)
    # The same graph but for the ignored training flag: the float32 rounding of one
    # forward pass (~10 ulps of outputs of order 1) bounds any difference.
    np.testing.assert_allclose(np.asarray(block(x, training=True)),
                               np.asarray(block(x, training=False)), atol=32 * EPS32,
                               rtol=32 * EPS32)
    np.testing.assert_allclose(np.asarray(block(x, training=False)),
                               np_block(block, x.astype("float64")), atol=2e-5, rtol=1e-4)


def test_an_untrainable_block_is_frozen_after_a_round_trip(tmp_path):
    """`trainable=False` reaches the block's sub-layers, also when Keras rebuilds the block
    from its config: no weight trains and BatchNormalization runs in inference mode."""
    rng = np.random.default_rng(6)
    inputs = keras.Input((6, 6, 4))
    block = BasicBlock(8, stride=2, trainable=False)
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(block(inputs)))
    model = keras.Model(inputs, outputs)
    path = os.path.join(tmp_path, "frozen.keras")
    model.save(path)
    for net in (model, keras.saving.load_model(path)):
        frozen = net.layers[1]
        assert not frozen.trainable_weights and not any(bn.trainable for bn in frozen.bns)
        before = [np.array(w) for w in frozen.weights]
        net.compile(keras.optimizers.SGD(0.1), "mse")
        net.fit(rng.normal(size=(4, 6, 6, 4)), rng.normal(size=(4, 1)), verbose=0)
        for b, w in zip(before, frozen.weights):  # never assigned: the same bits
            np.testing.assert_array_equal(b, np.array(w), err_msg=w.path)


@pytest.mark.parametrize("norm_layer", ["batch", "sync"])
def test_sync_norm_layer_shares_statistics_across_replicas(norm_layer, mirrored_strategy):
    strategy = mirrored_strategy
    rng = np.random.default_rng(7)
    # The two replicas see different data: channel means near 0 and near 4.
    per_replica = [rng.normal(4.0 * r, 1.0, (2, 4, 4, 3)).astype("float32") for r in range(2)]
    with strategy.scope():
        # Pre-activation: bn1 normalises the block input itself; momentum 0 makes the
        # moving mean after one step the step's batch mean.
        block = BasicBlock(3, preact=True, norm_layer=norm_layer, bn_momentum=0.0)
        block.build((None, 4, 4, 3))
    inputs = strategy.experimental_distribute_values_from_function(
        lambda context: tf.constant(per_replica[context.replica_id_in_sync_group]))
    tf.function(lambda x: strategy.run(lambda t: block(t, training=True), args=(x,)))(inputs)
    moving = [np.asarray(v) for v in
              strategy.experimental_local_results(block.bns[0].moving_mean.value)]
    both = np.concatenate(per_replica).mean(axis=(0, 1, 2))
    own = [x.mean(axis=(0, 1, 2)) for x in per_replica]
    expected = [both, both] if norm_layer == "sync" else own
    # A float32 mean of 32 (or 64) values is within 64 eps max|x| of the exact mean; the
    # per-replica and the global means differ by ~2.
    tolerance = 64 * EPS32 * np.abs(per_replica).max()
    for replica, (got, want) in enumerate(zip(moving, expected)):
        np.testing.assert_allclose(got, want, atol=tolerance, err_msg=f"replica {replica}")
    assert np.abs(own[0] - both).min() > 1.0  # the two cases are far apart


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 8, "norm_layer": "group"}, "Expected `norm_layer` to be one of"),
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
