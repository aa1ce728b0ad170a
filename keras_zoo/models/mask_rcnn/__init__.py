"""Mask R-CNN and Faster R-CNN with FPN (He et al. 2017, arXiv:1703.06870; Ren et al. 2015;
Lin et al. 2017, arXiv:1612.03144): the task models, the parts they compose (backbone,
anchor generator, RPN head, RoI heads and predictors, matcher, sampler, box coder),
torchvision's architectures as data (`DETECTOR_VARIANTS`: v1 and v2) and their weights
(`from_torchvision`)."""

from keras_zoo.models.mask_rcnn.anchor_generator import AnchorGenerator  # noqa: F401
from keras_zoo.models.mask_rcnn.balanced_sampler import BalancedSampler  # noqa: F401
from keras_zoo.models.mask_rcnn.box_coder import BoxCoder  # noqa: F401
from keras_zoo.models.mask_rcnn.box_head import BoxHead  # noqa: F401
from keras_zoo.models.mask_rcnn.box_predictor import BoxPredictor  # noqa: F401
from keras_zoo.models.mask_rcnn.detector_variants import DETECTOR_VARIANTS  # noqa: F401
from keras_zoo.models.mask_rcnn.faster_rcnn import BACKBONES, FasterRCNN  # noqa: F401
from keras_zoo.models.mask_rcnn.feature_pyramid import FeaturePyramid  # noqa: F401
from keras_zoo.models.mask_rcnn.fpn_backbone import FPNBackbone  # noqa: F401
from keras_zoo.models.mask_rcnn.from_torchvision import (  # noqa: F401
    TORCHVISION,
    detect_architecture,
    from_torchvision,
    read_state_dict,
)
from keras_zoo.models.mask_rcnn.mask_head import MaskHead  # noqa: F401
from keras_zoo.models.mask_rcnn.mask_predictor import MaskPredictor  # noqa: F401
from keras_zoo.models.mask_rcnn.mask_rcnn import LOSS_TERMS, MaskRCNN  # noqa: F401
from keras_zoo.models.mask_rcnn.matcher import Matcher  # noqa: F401
from keras_zoo.models.mask_rcnn.roi_poolers import roi_poolers  # noqa: F401
from keras_zoo.models.mask_rcnn.rpn_head import RPNHead  # noqa: F401
