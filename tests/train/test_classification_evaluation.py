"""train.evaluation.classification_metrics: top-1 / top-5 accuracy and the loss of the
probabilities averaged over the crops of each image, against a NumPy reference."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.train.evaluation import classification_metrics


def _model(classes, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(classes, activation="softmax")(keras.layers.Rescaling(1 / 50)(x))
    return keras.Model(inputs, outputs)


def _reference(model, images, labels):
    """Loss, top-1, top-5 of the crops' mean probabilities, NumPy (stable ranking: ties to
    the lower class index)."""
    flat = images.reshape(-1, *images.shape[-3:])
    probabilities = model.predict(flat, verbose=0).reshape(len(labels), -1, model.output_shape[-1])
    mean = probabilities.mean(axis=1)
    ranked = np.argsort(-mean, axis=1, kind="stable")
    loss = -np.log(np.clip(mean[np.arange(len(labels)), labels], 1e-7, 1 - 1e-7))
    return (loss.mean(), np.mean(ranked[:, 0] == labels),
            np.mean([label in row[:5] for label, row in zip(labels, ranked)]))


@pytest.mark.parametrize("crops, classes", [(None, 12), (10, 12), (10, 3)])
def test_matches_a_numpy_reference(crops, classes):
    rng = np.random.default_rng(crops or 1)
    shape = (37,) + ((crops,) if crops else ()) + (4, 4, 3)
    images = rng.integers(0, 256, shape).astype(np.uint8)
    labels = rng.integers(0, classes, 37).astype(np.int32)
    model = _model(classes)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    metrics = classification_metrics(model, dataset)
    loss, top1, top5 = _reference(model, images, labels)
    assert metrics["images"] == 37
    np.testing.assert_allclose(metrics["loss"], loss, rtol=1e-5)
    assert metrics["accuracy"] == pytest.approx(top1, abs=1e-12)
    assert metrics["top5_accuracy"] == pytest.approx(top5, abs=1e-12)
    if classes <= 5:
        assert metrics["top5_accuracy"] == 1.0
    assert 0 < top1 < top5 <= 1  # the example is not degenerate


def test_averaging_the_crops_changes_the_ranking():
    """Two crops whose probabilities disagree: the mean decides, not the first crop."""
    images = np.zeros((1, 2, 4, 4, 3), np.float32)
    images[0, 1] = 1.0

    class Fixed(keras.Model):
        def call(self, x):
            bright = tf.reduce_mean(x, axis=[1, 2, 3])[:, None]
            return tf.concat([0.6 - 0.5 * bright, 0.4 + 0.5 * bright], axis=1)

    metrics = classification_metrics(Fixed(), tf.data.Dataset.from_tensors((images, [1])))
    assert metrics["accuracy"] == 1.0  # crops (0.6, 0.4) and (0.1, 0.9): mean (0.35, 0.65)
    np.testing.assert_allclose(metrics["loss"], -np.log(0.65), rtol=1e-6)


def test_an_empty_dataset_is_an_error():
    dataset = tf.data.Dataset.from_tensor_slices((np.zeros((0, 4, 4, 3), np.uint8),
                                                  np.zeros((0,), np.int32))).batch(2)
    with pytest.raises(ValueError, match="Expected images to evaluate"):
        classification_metrics(_model(3), dataset)


def test_weight_zero_images_are_left_out():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, (20, 4, 4, 3)).astype(np.uint8)
    labels = rng.integers(0, 7, 20).astype(np.int32)
    weights = (np.arange(20) % 3 != 0).astype(np.float32)
    model = _model(7)
    weighted = classification_metrics(model, tf.data.Dataset.from_tensor_slices(
        (images, labels, weights)).batch(6))
    kept = weights == 1
    subset = classification_metrics(model, tf.data.Dataset.from_tensor_slices(
        (images[kept], labels[kept])).batch(6))
    assert weighted["images"] == subset["images"] == 13
    for key in ("loss", "accuracy", "top5_accuracy"):
        np.testing.assert_allclose(weighted[key], subset[key], rtol=1e-6)
