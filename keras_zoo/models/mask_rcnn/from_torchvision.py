"""`from_torchvision`: a `MaskRCNN` or `FasterRCNN` with the weights of torchvision's
``maskrcnn_resnet50_fpn`` or ``fasterrcnn_resnet50_fpn``."""

import os
import re

import numpy as np

from keras_zoo.checks import size_pair
from keras_zoo.models.mask_rcnn.box_predictor import BoxPredictor
from keras_zoo.models.mask_rcnn.faster_rcnn import FasterRCNN
from keras_zoo.models.mask_rcnn.mask_predictor import MaskPredictor
from keras_zoo.models.mask_rcnn.mask_rcnn import MaskRCNN
from keras_zoo.models.mask_rcnn.roi_poolers import roi_poolers

# Checkpoints written before torchvision 0.13 (the COCO weights among them) name two
# heads differently; torchvision upgrades them on load, so do we.
_LEGACY_NAMES = (
    (re.compile(r"^rpn\.head\.conv\.(weight|bias)$"), r"rpn.head.conv.0.0.\1"),
    (re.compile(r"^roi_heads\.mask_head\.mask_fcn(\d)\.(weight|bias)$"),
     lambda m: f"roi_heads.mask_head.{int(m.group(1)) - 1}.0.{m.group(2)}"),
)


def _to_numpy(value):
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def _load(state_dict):
    if isinstance(state_dict, (str, os.PathLike)):
        path = os.fspath(state_dict)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected a torchvision checkpoint file. Received: {path!r}")
        try:
            import torch
        except ImportError as error:
            raise ValueError("Expected torch to read a .pth file (pip install "
                             "'keras_zoo[torch]'), or pass a dict of NumPy arrays. "
                             f"Received: {path!r}") from error
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if not hasattr(state_dict, "items"):
        raise ValueError("Expected a state dict (a mapping of names to arrays or tensors) or "
                         f"a .pth path. Received: {type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        for pattern, replacement in _LEGACY_NAMES:
            name = pattern.sub(replacement, name)
        if not name.endswith("num_batches_tracked"):
            arrays[name] = _to_numpy(value)
    return arrays


class _Weights:
    """Pops torchvision tensors by name, converted to Keras layouts."""

    def __init__(self, arrays):
        self.arrays = arrays

    def pop(self, name):
        if name not in self.arrays:
            raise ValueError("Expected a torchvision maskrcnn_resnet50_fpn or "
                             "fasterrcnn_resnet50_fpn state dict. "
                             f"Received: a state dict without {name!r}")
        return self.arrays.pop(name)

    def conv(self, layer, prefix, bias=True):
        weights = [self.pop(f"{prefix}.weight").transpose(2, 3, 1, 0)]  # OIHW -> HWIO
        if bias:
            weights.append(self.pop(f"{prefix}.bias"))
        layer.set_weights(weights)

    def conv_transpose(self, layer, prefix):  # torch [in, out, kh, kw] -> Keras [kh, kw, out, in]
        layer.set_weights([self.pop(f"{prefix}.weight").transpose(2, 3, 1, 0),
                           self.pop(f"{prefix}.bias")])

    def dense(self, layer, prefix, kernel=None):
        kernel = self.pop(f"{prefix}.weight").T if kernel is None else kernel
        layer.set_weights([kernel, self.pop(f"{prefix}.bias")])

    def batch_norm(self, layer, prefix):
        layer.set_weights([self.pop(f"{prefix}.{k}")
                           for k in ("weight", "bias", "running_mean", "running_var")])


def _copy_body(weights, body, prefix="backbone.body"):
    weights.conv(body.get_layer("conv1_conv"), f"{prefix}.conv1", bias=False)
    weights.batch_norm(body.get_layer("conv1_bn"), f"{prefix}.bn1")
    for layer in body.layers:
        match = re.fullmatch(r"conv(\d)_block(\d+)", layer.name)
        if not match:
            continue
        stage, block = int(match.group(1)) - 1, int(match.group(2)) - 1
        torch_block = f"{prefix}.layer{stage}.{block}"
        for i, (conv, bn) in enumerate(zip(layer.convs, layer.bns)):
            weights.conv(conv, f"{torch_block}.conv{i + 1}", bias=False)
            weights.batch_norm(bn, f"{torch_block}.bn{i + 1}")
        if layer.shortcut_conv is not None:
            weights.conv(layer.shortcut_conv, f"{torch_block}.downsample.0", bias=False)
            weights.batch_norm(layer.shortcut_bn, f"{torch_block}.downsample.1")


def _fc6_kernel(weight, pool_size):
    """torchvision flattens pooled [C, h, w] features, we flatten [h, w, C]."""
    (h, w), (out, flat) = size_pair("pool_size", pool_size), weight.shape
    kernel = weight.reshape(out, flat // (h * w), h, w).transpose(2, 3, 1, 0)
    return kernel.reshape(flat, out)


def from_torchvision(state_dict, *, num_classes=None, **overrides):
    """Builds a detector from torchvision's ``maskrcnn_resnet50_fpn`` (a `MaskRCNN`) or
    ``fasterrcnn_resnet50_fpn`` (a `FasterRCNN`) weights, whichever the state dict holds.

    The model reproduces torchvision's inference: ResNet-50-FPN with frozen BN, its
    pixel normalisation, resize policy (800 / 1333), anchors, thresholds and its
    poolers' convention (``roi_poolers(aligned=False)``). torchvision's COCO
    weights (``maskrcnn_resnet50_fpn_coco``, box AP 37.9 / mask AP 34.6) make a
    pretrained Keras Mask R-CNN:

    >>> state = torch.load("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth")  # doctest: +SKIP
    >>> model = models.mask_rcnn.from_torchvision(state)               # doctest: +SKIP

    Args:
        state_dict: a mapping of torchvision parameter names to NumPy arrays or torch
            tensors (``model.state_dict()``), or the path of a ``.pth`` file (needs
            torch: ``pip install 'keras_zoo[torch]'``). Names of checkpoints older than
            torchvision 0.13 are accepted too.
        num_classes: None keeps torchvision's classes; another count (background
            included) replaces the predictors with fresh ones for fine-tuning
            (`FasterRCNN.replace`): every other weight is copied, the mask predictor's
            class-independent upsampling included.
        **overrides: other constructor arguments replacing the torchvision ones (e.g.
            ``min_size``, ``seed``, RoI poolers).

    Returns:
        A `MaskRCNN` or `FasterRCNN` (``backbone="resnet50_fpn"``).
    """
    weights = _Weights(_load(state_dict))
    masks = any(name.startswith("roi_heads.mask_predictor.") for name in weights.arrays)
    trained_classes = weights.arrays.get("roi_heads.box_predictor.cls_score.weight",
                                         np.zeros((91, 1))).shape[0]
    task = MaskRCNN if masks else FasterRCNN
    model = task(trained_classes, **{**roi_poolers(masks=masks, aligned=False), **overrides})
    _copy_body(weights, model.backbone.body)
    fpn = model.backbone.fpn
    for i, (lateral, output) in enumerate(zip(fpn.lateral_convs, fpn.output_convs)):
        weights.conv(lateral, f"backbone.fpn.inner_blocks.{i}.0")
        weights.conv(output, f"backbone.fpn.layer_blocks.{i}.0")
    rpn = model.rpn_head
    weights.conv(rpn.convs[0], "rpn.head.conv.0.0")
    weights.conv(rpn.objectness, "rpn.head.cls_logits")
    weights.conv(rpn.box_deltas, "rpn.head.bbox_pred")
    box_head, pool_size = model.box_head, model.box_roi_pool.output_size
    weights.dense(box_head.fcs[0], "roi_heads.box_head.fc6",
                  _fc6_kernel(weights.pop("roi_heads.box_head.fc6.weight"), pool_size))
    weights.dense(box_head.fcs[1], "roi_heads.box_head.fc7")
    weights.dense(model.box_predictor.classifier, "roi_heads.box_predictor.cls_score")
    weights.dense(model.box_predictor.box_deltas, "roi_heads.box_predictor.bbox_pred")
    if masks:
        for i, conv in enumerate(model.mask_head.convs):
            weights.conv(conv, f"roi_heads.mask_head.{i}.0")
        weights.conv_transpose(model.mask_predictor.upsample,
                               "roi_heads.mask_predictor.conv5_mask")
        weights.conv(model.mask_predictor.logits, "roi_heads.mask_predictor.mask_fcn_logits")
    if weights.arrays:
        raise ValueError(f"Expected only {task.__name__} weights of torchvision. Received: "
                         f"unused entries {sorted(weights.arrays)[:5]}")
    if num_classes is None or num_classes == trained_classes:
        return model
    new = {"box_predictor": BoxPredictor(num_classes, name="box_predictor")}
    if masks:
        new["mask_predictor"] = MaskPredictor(
            num_classes, upsample_filters=model.mask_predictor.upsample_filters,
            name="mask_predictor")
    tuned = model.replace(**new)
    if masks:  # the 2x upsampling does not depend on the classes: keep the trained one
        tuned.mask_predictor.upsample.set_weights(model.mask_predictor.upsample.get_weights())
    return tuned
