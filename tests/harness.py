"""Shared checks every public layer and model goes through (STYLE.md practice 12).

Per-class tests call these with their own arguments and inputs, so each
check is written once: config == constructor signature, `.keras` round trip
with the same outputs, compute_output_shape, and one `fit` step.
"""

import inspect
import os

import keras
import numpy as np


def assert_config_matches_signature(obj, init_kwargs=None):
    """`get_config()` holds every `__init__` argument, with the values given."""
    config = obj.get_config()
    params = [
        name
        for name, p in inspect.signature(type(obj).__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    missing = [name for name in params if name not in config]
    assert not missing, f"{type(obj).__name__}.get_config() lacks __init__ args {missing}"
    for name, value in (init_kwargs or {}).items():
        got = config[name]
        if isinstance(value, keras.layers.Layer):
            continue  # nested layers are serialised; the round trip checks them
        value, got = _comparable(value), _comparable(got)
        assert got == value, f"{type(obj).__name__}.get_config()[{name!r}] = {got!r} != {value!r}"


def _comparable(value):
    """Objects with a config (regularizers, initializers, layers in a list) as their
    serialised form; tuples as lists, at any depth."""
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if hasattr(value, "get_config"):
        return _comparable(keras.saving.serialize_keras_object(value))
    return value


def _to_numpy(outputs):
    return keras.tree.map_structure(lambda t: keras.ops.convert_to_numpy(t), outputs)


# A `.keras` round trip copies the weights exactly, but the restored model is a new
# graph: TF may run another kernel or reduction order for it (oneDNN's choice varies
# with the CPU's vector extensions; seen: 1 ulp, 6e-8, on an AVX2 EPYC). A float32
# sum reordered differs by about sqrt(n) ulps of its scale; 16 eps (1.9e-6) of the
# output scale allows that for the sums of the small test models (n <= a few hundred).
ROUND_TRIP_ULPS = 16


def assert_outputs_close(a, b, atol=None, rtol=0.0):
    """Outputs `b` equal `a` within `atol` (default: `ROUND_TRIP_ULPS` float32 eps of
    the scale of `a`, max |a|, at least 1) and `rtol`."""
    keras.tree.assert_same_structure(a, b)
    for x, y in zip(keras.tree.flatten(_to_numpy(a)), keras.tree.flatten(_to_numpy(b))):
        tol = atol
        if tol is None:
            scale = max(1.0, float(np.max(np.abs(x)))) if np.size(x) else 1.0
            tol = ROUND_TRIP_ULPS * float(np.finfo(np.float32).eps) * scale
        np.testing.assert_allclose(x, y, atol=tol, rtol=rtol)


def run_layer_test(layer_cls, init_kwargs, inputs, tmp_path, *, expected_output_shape=None,
                   call_kwargs=None):
    """Builds `layer_cls(**init_kwargs)`, calls it on `inputs` (inference mode) and checks
    the output shape, compute_output_shape, config against the signature, and that a
    functional model holding the layer survives a `.keras` save/load with the same outputs
    (within `ROUND_TRIP_ULPS`).

    Returns the layer's output on `inputs`.
    """
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    outputs = layer(inputs, **call_kwargs)
    out_shape = keras.tree.map_structure(lambda t: tuple(t.shape), outputs)
    if expected_output_shape is not None:
        assert out_shape == expected_output_shape, f"{out_shape} != {expected_output_shape}"
    in_shape = keras.tree.map_structure(lambda t: tuple(t.shape), inputs)
    assert tuple(layer.compute_output_shape(in_shape)) == out_shape
    assert_config_matches_signature(layer, init_kwargs)

    symbolic = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype), inputs)
    model = keras.Model(symbolic, layer(symbolic, **call_kwargs))
    path = os.path.join(tmp_path, "layer.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert_outputs_close(model(inputs), restored(inputs))
    return outputs


def _is_subclassed(model):
    """A model class of its own (e.g. ConcreteVAE), whose config is its constructor's
    arguments; not a functional or Sequential model (their config is the graph)."""
    return not type(model).__module__.startswith("keras.")


def run_model_test(model, x, y, tmp_path, *, loss=None, optimizer="sgd", init_kwargs=None):
    """A `.keras` round trip with the same predictions (within `ROUND_TRIP_ULPS`),
    config against the signature for subclassed models (with the values of
    `init_kwargs`), and one `fit` step with a finite loss."""
    if _is_subclassed(model):
        assert_config_matches_signature(model, init_kwargs)
    expected = model.predict(x, verbose=0)
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert_outputs_close(expected, restored.predict(x, verbose=0))
    if not model.compiled:
        model.compile(optimizer=optimizer, loss=loss)
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    return restored
