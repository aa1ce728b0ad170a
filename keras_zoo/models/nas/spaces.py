"""The search-space protocol, and `get`: a space from a list, a dict, JSON or a space.

A search space is an object with

- ``decisions``: the controller's steps in order, a tuple of `Decision` (a
  categorical step with its ``choices``, or an anchor point with one skip
  bit per earlier anchor);
- ``num_actions`` and ``size`` (action-vector length, number of architectures);
- ``encode(arch)`` -> int32 ``[num_actions]`` and ``decode(actions)`` -> arch;
- ``sample(rng)``: a uniformly random architecture;
- ``to_record(arch)`` / ``from_record(value)``: the JSON value of a trial
  record's ``"arch"``;
- ``get_config()`` / ``from_config(config)``, registered with Keras.

`Controller`, `PolicyGradient`, `RandomSearch` and `RegularizedEvolution`
use nothing else, so any such object can be searched. Three ship:
`SearchSpace` (the CNN space, Sec. 3.1-3.3), `RecurrentCellSpace` (Sec.
3.4) and `ChoiceSpace` (a plain list of categorical decisions).
"""

import json

from keras_zoo.checks import is_int
from keras_zoo.models.nas.choice_space import ChoiceSpace
from keras_zoo.models.nas.recurrent_cell_space import RecurrentCellSpace
from keras_zoo.models.nas.search_space import SearchSpace

CLASSES = {cls.__name__: cls for cls in (SearchSpace, RecurrentCellSpace, ChoiceSpace)}
METHODS = ("decisions", "num_actions", "encode", "decode", "sample", "to_record", "from_record",
           "get_config")


def is_space(value):
    """True for an object with every method of the protocol."""
    return all(hasattr(value, name) for name in METHODS)


def serialize(space):
    """``{"class_name": ..., "config": ...}``: what `get` and `from_json` read back."""
    return {"class_name": type(space).__name__, "config": space.get_config()}


def to_json(space):
    return json.dumps(serialize(space), sort_keys=True)


def from_json(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"Expected search-space JSON. Received: {error}") from None
    return get(value)


def get(value):
    """A search space from any of its forms.

    Args:
        value: a space (returned as is); a list or tuple of ints, the choice
            counts of a `ChoiceSpace`; a `serialize` dict; or the bare
            `get_config()` dict of a CNN `SearchSpace` (the form older
            controllers stored).

    Raises:
        ValueError: none of these.
    """
    if is_space(value):
        return value
    if isinstance(value, (list, tuple)) and value and all(is_int(v) for v in value):
        return ChoiceSpace(value)
    if isinstance(value, dict) and set(value) == {"class_name", "config"}:
        if value["class_name"] not in CLASSES:
            raise ValueError(f"Expected a space class in {sorted(CLASSES)}. "
                             f"Received: {value['class_name']!r}")
        return CLASSES[value["class_name"]].from_config(value["config"])
    if isinstance(value, dict) and "num_layers" in value:
        return SearchSpace.from_config(value)
    raise ValueError(f"Expected a search space: a space object, a list of choice counts "
                     f"such as [9, 9, 9] or a serialized space. Received: {str(value)[:200]}")
