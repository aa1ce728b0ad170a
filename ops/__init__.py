"""Pure TensorFlow functions on tensors, no Keras state.

RoIAlign, boxes, anchors, NMS, FPN levels, masks, detector proposals, targets and
input resizing, the Concrete distribution, stateless seeds and the averaging of sampled
passes.
"""
from . import (
    anchors,  # noqa: F401
    averaging,  # noqa: F401
    boxes,  # noqa: F401
    concrete,  # noqa: F401
    images,  # noqa: F401
    levels,  # noqa: F401
    masks,  # noqa: F401
    matching,  # noqa: F401
    nms,  # noqa: F401
    proposals,  # noqa: F401
    seeds,  # noqa: F401
    targets,  # noqa: F401
)
from .roi_align import roi_align  # noqa: E402,F401  (the function shadows the module name)
from .roi_pool import roi_pool  # noqa: E402,F401
