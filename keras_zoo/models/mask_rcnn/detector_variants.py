"""torchvision's ResNet-50-FPN detectors as data (STYLE.md practice 8): one row of part
arguments per architecture, which `FasterRCNN.from_variant` and `MaskRCNN.from_variant`
turn into parts.

"resnet50_fpn" is torchvision's ``fasterrcnn_resnet50_fpn`` / ``maskrcnn_resnet50_fpn``
as built for its COCO weights (He et al. 2017's R-50-FPN): frozen batch normalisation in
the body, an FPN without normalisation, a 1-conv RPN head, the "2fc" box head and the
4-conv mask head. "resnet50_fpn_v2" is torchvision's ``*_resnet50_fpn_v2`` (Li et al.
2021, arXiv:2111.11429, "Benchmarking Detection Transfer Learning with Vision
Transformers"): batch normalisation as trained in the body and in the FPN, a 2-conv RPN
head, a "4conv1fc" box head with batch normalisation and a mask head with it. Both pool
with torchvision's RoIAlign convention (``aligned=False``, 2 samples per bin), on which
their weights were trained.
"""

from keras_zoo.checks import one_of
from keras_zoo.models.mask_rcnn.box_head import BoxHead
from keras_zoo.models.mask_rcnn.fpn_backbone import FPNBackbone
from keras_zoo.models.mask_rcnn.mask_head import MaskHead
from keras_zoo.models.mask_rcnn.roi_poolers import roi_poolers
from keras_zoo.models.mask_rcnn.rpn_head import RPNHead

_HEAD_CONVS = (256, 256, 256, 256)  # Mask R-CNN Fig. 4 right; torchvision's v2 box head

DETECTOR_VARIANTS = {
    "resnet50_fpn": {
        "backbone": {"variant": "resnet50", "norm_layer": "frozen", "fpn_norm_layer": None},
        "rpn_head": {"conv_depth": 1},
        "box_head": {"conv_filters": (), "fc_units": (1024, 1024), "norm_layer": None},
        "mask_head": {"conv_filters": _HEAD_CONVS, "norm_layer": None},
    },
    "resnet50_fpn_v2": {
        "backbone": {"variant": "resnet50", "norm_layer": "batch", "fpn_norm_layer": "batch"},
        "rpn_head": {"conv_depth": 2},
        "box_head": {"conv_filters": _HEAD_CONVS, "fc_units": (1024,), "norm_layer": "batch"},
        "mask_head": {"conv_filters": _HEAD_CONVS, "norm_layer": "batch"},
    },
}
_BUILDERS = {"backbone": FPNBackbone.from_variant, "rpn_head": RPNHead, "box_head": BoxHead,
             "mask_head": MaskHead}


def variant_parts(variant, names):
    """The parts of `variant` (a `DETECTOR_VARIANTS` key) among `names` (constructor
    argument names: a task's ``PARTS``), built fresh: ``{name: part}``. The RoI poolers
    are torchvision's (``roi_poolers(aligned=False)``); the mask pooler only when
    ``"mask_roi_pool"`` is among `names`."""
    row = DETECTOR_VARIANTS[one_of("variant", variant, tuple(DETECTOR_VARIANTS))]
    poolers = roi_poolers(masks="mask_roi_pool" in names, aligned=False)
    parts = {name: build(**row[name], name=name) for name, build in _BUILDERS.items()
             if name in names}
    return {**parts, **{name: pool for name, pool in poolers.items() if name in names}}
