"""The `stochastic` SavedModel signature: the mean softmax of N sampled passes
(Singh et al. 2016, Sec. 3.2) of a model whose layers sample at inference.

Export takes any `keras.Model` and imports nothing of keras_zoo's layers or
models: a stochastic layer is any layer with a bool `stochastic_inference`
attribute, the interface `Swapout` and `StochasticDepth` document (True:
sample at inference; its random state lives in the layer's variables). The
layers are found in TensorFlow's object graph of the model
(`tf.train.TrackableView`), which is also what the SavedModel saves.
"""

import contextlib

import keras
import tensorflow as tf

from keras_zoo.ops import averaging


def stochastic_layers(model):
    """The layers reachable from `model` with a bool `stochastic_inference` attribute."""
    return [obj for obj in tf.train.TrackableView(model).descendants()
            if isinstance(obj, keras.layers.Layer)
            and isinstance(getattr(obj, "stochastic_inference", None), bool)]


@contextlib.contextmanager
def sampling(layers):
    """Within the block, `layers` sample at inference (read when a call is traced)."""
    previous = [layer.stochastic_inference for layer in layers]
    for layer in layers:
        layer.stochastic_inference = True
    try:
        yield
    finally:
        for layer, value in zip(layers, previous):
            layer.stochastic_inference = value


def stochastic_serving_fn(model, *, from_logits=False, max_batch_size=256,
                          output_name="probabilities"):
    """A SavedModel-ready `tf.function(images, num_samples) -> {output_name: probs}`.

    `images`: uint8 `[None, H, W, C]` raw pixels; `num_samples`: int32 scalar N >= 1.
    Returns the mean softmax of N sampled passes, float32 `[None, classes]`
    (`keras_zoo.ops.averaging.mean_over_passes`, the loop
    `keras_zoo.models.sampled_probabilities` runs too). Its `python_function`
    computes the same eagerly.
    `to_saved_model` adds it as the `stochastic` endpoint next to the
    deterministic `serving_default`; by hand::

        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", deterministic_fn, input_signature=...)
        archive.add_endpoint("stochastic", stochastic_serving_fn(model))
        archive.write_out(path)

    With plain `tf.saved_model.save`, the saved object must track all of
    `model.variables`: they include the stochastic layers' `SeedGenerator`
    states, which Keras layers do not expose to TF's object graph.
    """
    layers = stochastic_layers(model)
    model_dtype = keras.backend.standardize_dtype(model.inputs[0].dtype)

    def one_pass(tiled):
        with sampling(layers):
            return model(tiled, training=False)

    def stochastic(images, num_samples):
        return {output_name: averaging.mean_over_passes(
            one_pass, tf.cast(images, model_dtype), num_samples, model.output_shape[1:],
            from_logits=from_logits, max_batch_size=max_batch_size)}

    return tf.function(stochastic, input_signature=[
        tf.TensorSpec((None,) + tuple(model.inputs[0].shape[1:]), tf.uint8, name="images"),
        tf.TensorSpec([], tf.int32, name="num_samples")])
