"""`Architecture`: a child network as a plain, immutable, JSON-serialisable value."""

import dataclasses
import json

from keras_zoo.models.nas.layer_spec import LayerSpec

FORMAT = "keras_zoo.nas.architecture"


@dataclasses.dataclass(frozen=True)
class Architecture:
    """The layers of one child network, first to last (Zoph & Le 2016, Sec. 3).

    Equal architectures compare and hash equal, so they can key a dict or a
    set. `to_json` / `from_json` round-trip exactly.

    Attributes:
        layers: tuple of `LayerSpec`; layer i may only take inputs from
            layers 0..i-1.

    Example:

    >>> arch = Architecture((LayerSpec(3, 3, 24), LayerSpec(5, 1, 36, inputs=(0,))))
    >>> Architecture.from_json(arch.to_json()) == arch
    True
    """

    layers: tuple

    def __post_init__(self):
        layers = tuple(self.layers)
        if not layers or not all(isinstance(layer, LayerSpec) for layer in layers):
            raise ValueError("Expected layers a non-empty sequence of LayerSpec. "
                             f"Received: layers={self.layers!r}")
        for i, layer in enumerate(layers):
            if layer.inputs and layer.inputs[-1] >= i:
                raise ValueError(f"Expected layer {i} to take inputs from earlier layers only. "
                                 f"Received: inputs={layer.inputs}")
        object.__setattr__(self, "layers", layers)

    @property
    def num_layers(self):
        return len(self.layers)

    def unused_layers(self):
        """Indices of the layers whose output feeds no later layer (the last
        always among them): their outputs are concatenated before the classifier."""
        used = {j for layer in self.layers for j in layer.inputs}
        return tuple(i for i in range(len(self.layers)) if i not in used)

    def to_dict(self):
        return {"format": FORMAT, "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_dict(cls, value):
        if not isinstance(value, dict) or value.get("format") != FORMAT or \
                not isinstance(value.get("layers"), list):
            raise ValueError(f"Expected an architecture dict with format={FORMAT!r} and a "
                             f"'layers' list. Received: {str(value)[:200]}")
        return cls(tuple(LayerSpec.from_dict(layer) for layer in value["layers"]))

    def to_json(self, indent=None):
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"Expected architecture JSON. Received: {error}") from None
        return cls.from_dict(value)
