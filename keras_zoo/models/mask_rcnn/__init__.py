"""Mask R-CNN with FPN (He et al. 2017, arXiv:1703.06870; Lin et al. 2017, arXiv:1612.03144):
backbone + FPN, RPN head, box head, mask head, the `MaskRCNN` task model, and
weights from torchvision."""

from keras_zoo.models.mask_rcnn.box_head import BoxHead  # noqa: F401
from keras_zoo.models.mask_rcnn.feature_pyramid import FeaturePyramid  # noqa: F401
from keras_zoo.models.mask_rcnn.fpn_backbone import FPNBackbone, resnet_body  # noqa: F401
from keras_zoo.models.mask_rcnn.from_torchvision import from_torchvision  # noqa: F401
from keras_zoo.models.mask_rcnn.mask_head import MaskHead  # noqa: F401
from keras_zoo.models.mask_rcnn.mask_rcnn import BACKBONES, LOSS_TERMS, MaskRCNN  # noqa: F401
from keras_zoo.models.mask_rcnn.rpn_head import RPNHead  # noqa: F401
