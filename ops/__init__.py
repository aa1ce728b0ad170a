"""Pure TensorFlow functions on tensors, no Keras state.

RoIAlign, boxes, anchors, NMS, masks and the Concrete distribution.
"""
from . import concrete  # noqa: F401
