"""`LayerSpec`: the choices the controller makes for one child layer."""

import dataclasses

from keras_zoo.checks import positive_int


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One convolution of a child network (Zoph & Le 2016, Sec. 3.1 and 3.3).

    A plain, immutable value: equal specs compare and hash equal.

    Attributes:
        filter_height: kernel rows.
        filter_width: kernel columns.
        num_filters: output channels.
        stride: the stride of both spatial axes.
        inputs: sorted tuple of the indices of the earlier layers whose outputs
            feed this layer (concatenated on depth); empty: the image.
    """

    filter_height: int
    filter_width: int
    num_filters: int
    stride: int = 1
    inputs: tuple = ()

    def __post_init__(self):
        for name in ("filter_height", "filter_width", "num_filters", "stride"):
            positive_int(name, getattr(self, name))
        inputs = tuple(self.inputs)
        if any(isinstance(j, bool) or not isinstance(j, int) or j < 0 for j in inputs) or \
                list(inputs) != sorted(set(inputs)):
            raise ValueError("Expected inputs a sorted tuple of distinct layer indices >= 0. "
                             f"Received: inputs={self.inputs!r}")
        object.__setattr__(self, "inputs", inputs)

    def to_dict(self):
        """JSON-ready dict of the five fields (`inputs` as a list)."""
        return {"filter_height": self.filter_height, "filter_width": self.filter_width,
                "num_filters": self.num_filters, "stride": self.stride,
                "inputs": list(self.inputs)}

    @classmethod
    def from_dict(cls, value):
        """Inverse of `to_dict`."""
        expected = {"filter_height", "filter_width", "num_filters", "stride", "inputs"}
        if not isinstance(value, dict) or set(value) != expected:
            keys = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"Expected a layer dict with keys {sorted(expected)}. "
                             f"Received: {keys}")
        return cls(**{**value, "inputs": tuple(value["inputs"])})
