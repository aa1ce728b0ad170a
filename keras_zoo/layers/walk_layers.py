"""`walk_layers`: every layer nested in a layer or model, found through public attributes."""

import keras


def _children(layer):
    """The layers `layer` holds: a model's `layers`, then the layers (or lists, tuples and
    dict values of layers) in its public instance attributes, in attribute order."""
    found = list(layer.layers) if isinstance(layer, keras.Model) else []
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        if isinstance(value, dict):
            value = list(value.values())
        items = value if isinstance(value, (list, tuple)) else [value]
        found += [item for item in items if isinstance(item, keras.layers.Layer)]
    return found


def walk_layers(layer):
    """The layers nested in `layer` (not `layer` itself), depth first, each once.

    Keras 3 offers no public way to list nested layers (`Model.layers` is one
    level; `_flatten_layers` is private). This walks what a reader of the code
    sees: a model's `layers` and the layers a layer keeps in public attributes
    (e.g. a residual block's `merge`, its `convs` list), recursively. A layer
    kept only under a private name is not found: name sublayers publicly.

    Args:
        layer: a `keras.layers.Layer` (a `keras.Model` included).

    Returns:
        list of `keras.layers.Layer`.

    Example:

    >>> inner = keras.Sequential([keras.layers.Dense(2)])
    >>> model = keras.Sequential([inner, keras.layers.Dense(1)])
    >>> [type(layer).__name__ for layer in walk_layers(model)]
    ['Sequential', 'Dense', 'Dense']
    """
    seen, order, stack = {id(layer)}, [], list(reversed(_children(layer)))
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        order.append(current)
        stack.extend(reversed(_children(current)))
    return order
