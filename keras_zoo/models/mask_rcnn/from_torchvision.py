"""`from_torchvision`: a `MaskRCNN` or `FasterRCNN` with the weights of one of torchvision's
four ResNet-50-FPN detectors (Mask / Faster R-CNN, v1 and v2)."""

import os
import re

import numpy as np

from keras_zoo.checks import one_of, size_pair
from keras_zoo.models.mask_rcnn.faster_rcnn import FasterRCNN
from keras_zoo.models.mask_rcnn.mask_rcnn import MaskRCNN

# torchvision's detection builders -> (our task, its `DETECTOR_VARIANTS` row).
TORCHVISION = {
    "maskrcnn_resnet50_fpn": (MaskRCNN, "resnet50_fpn"),
    "maskrcnn_resnet50_fpn_v2": (MaskRCNN, "resnet50_fpn_v2"),
    "fasterrcnn_resnet50_fpn": (FasterRCNN, "resnet50_fpn"),
    "fasterrcnn_resnet50_fpn_v2": (FasterRCNN, "resnet50_fpn_v2"),
}

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


def read_state_dict(state_dict):
    """``(arrays, source)``: the NumPy arrays of a torchvision state dict (a mapping, or
    the path of a ``.pth`` file read with torch) by parameter name, the names of
    checkpoints older than torchvision 0.13 upgraded and ``num_batches_tracked`` left out;
    `source` names it in messages (the path, or "the state dict").

    Raises:
        FileNotFoundError: no such file. ValueError: torch cannot read it, or not a mapping.
    """
    source = "the state dict"
    if isinstance(state_dict, (str, os.PathLike)):
        path = source = os.fspath(state_dict)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected a torchvision checkpoint file. Received: {path!r}")
        try:
            import torch
        except ImportError as error:
            raise ValueError("Expected torch to read a .pth file (pip install "
                             "'keras_zoo[torch]'), or pass a dict of NumPy arrays. "
                             f"Received: {path!r}") from error
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # truncated zip, not a checkpoint, pickled code
            first = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
            raise ValueError(f"Expected a torchvision checkpoint that torch.load reads. "
                             f"Received: {path!r} ({first})") from None
    if not hasattr(state_dict, "items"):
        raise ValueError("Expected a state dict (a mapping of names to arrays or tensors) or "
                         f"a .pth path. Received: {type(state_dict).__name__} from {source}")
    arrays = {}
    for name, value in state_dict.items():
        for pattern, replacement in _LEGACY_NAMES:
            name = pattern.sub(replacement, name)
        if not name.endswith("num_batches_tracked"):
            arrays[name] = _to_numpy(value)
    return arrays, source


def detect_architecture(names):
    """The `TORCHVISION` architecture whose state dict has the parameter `names`: mask
    predictor weights make a Mask R-CNN, a second RPN convolution (or a convolutional box
    head) a v2 detector."""
    names = set(names)
    masks = any(name.startswith("roi_heads.mask_predictor.") for name in names)
    v2 = "rpn.head.conv.1.0.weight" in names or "roi_heads.box_head.0.0.weight" in names
    return f"{'maskrcnn' if masks else 'fasterrcnn'}_resnet50_fpn{'_v2' if v2 else ''}"


class _Weights:
    """Pops torchvision tensors by name, converted to Keras layouts."""

    def __init__(self, arrays, architecture, source):
        self.arrays, self.architecture, self.source = arrays, architecture, source

    def pop(self, name):
        if name not in self.arrays:
            raise ValueError(f"Expected a torchvision {self.architecture} state dict. "
                             f"Received: {self.source} without {name!r}")
        return self.arrays.pop(name)

    def conv(self, layer, prefix, bias=True):
        weights = [self.pop(f"{prefix}.weight").transpose(2, 3, 1, 0)]  # OIHW -> HWIO
        if bias:
            weights.append(self.pop(f"{prefix}.bias"))
        layer.set_weights(weights)

    def conv_norm(self, conv, norm, prefix):
        """torchvision's ``Conv2dNormActivation`` at `prefix`: conv ``.0`` (bias-free when
        normalised), norm ``.1``."""
        self.conv(conv, f"{prefix}.0", bias=norm is None)
        if norm is not None:
            self.batch_norm(norm, f"{prefix}.1")

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


def _copy_box_head(weights, box_head, pool_size):
    """v1's ``TwoMLPHead`` (fc6, fc7) or v2's ``FastRCNNConvFCHead`` (conv-norm blocks,
    a flatten, then linear + ReLU pairs, numbered as one ``nn.Sequential``)."""
    prefix = "roi_heads.box_head"
    for i, (conv, norm) in enumerate(zip(box_head.convs, box_head.norms)):
        weights.conv_norm(conv, norm, f"{prefix}.{i}")
    convs = len(box_head.convs)
    names = ([f"{prefix}.fc{6 + j}" for j in range(len(box_head.fcs))] if not convs
             else [f"{prefix}.{convs + 1 + 2 * j}" for j in range(len(box_head.fcs))])
    for j, (fc, name) in enumerate(zip(box_head.fcs, names)):
        weights.dense(fc, name, _fc6_kernel(weights.pop(f"{name}.weight"), pool_size)
                      if j == 0 else None)


def from_torchvision(state_dict, *, architecture=None, num_classes=None, **overrides):
    """Builds a detector from the weights of one of torchvision's `TORCHVISION` detectors
    (``maskrcnn_resnet50_fpn``, ``maskrcnn_resnet50_fpn_v2``, ``fasterrcnn_resnet50_fpn``,
    ``fasterrcnn_resnet50_fpn_v2``), whichever the state dict holds.

    The model is the task's `from_variant` of that architecture and reproduces
    torchvision's inference: its ResNet-50-FPN (frozen BN in v1; BN with its statistics
    in v2's body, FPN and heads), pixel normalisation, resize policy (800 / 1333),
    anchors, thresholds and its poolers' convention (``aligned=False``). torchvision's
    COCO weights make a pretrained Keras detector (``keras-zoo convert torchvision`` writes
    it as a preset):

    >>> path = "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth"
    >>> model = models.mask_rcnn.from_torchvision(path)  # doctest: +SKIP

    Args:
        state_dict: a mapping of torchvision parameter names to NumPy arrays or torch
            tensors (``model.state_dict()``), or the path of a ``.pth`` file (needs
            torch: ``pip install 'keras_zoo[torch]'``). Names of checkpoints older than
            torchvision 0.13 are accepted too.
        architecture: a `TORCHVISION` name the state dict must hold; None: recognised
            from its names (`detect_architecture`).
        num_classes: None keeps torchvision's classes; another count (background
            included) replaces the predictors with fresh ones for fine-tuning
            (`FasterRCNN.with_classes`): every other weight is copied, the mask
            predictor's class-independent upsampling included.
        **overrides: other constructor arguments replacing the torchvision ones (e.g.
            ``min_size``, ``seed``, RoI poolers).

    Returns:
        A `MaskRCNN` or `FasterRCNN`.

    Raises:
        ValueError: an unreadable file, a state dict of another architecture than
            `architecture`, missing or unused entries.
    """
    arrays, source = read_state_dict(state_dict)
    detected = detect_architecture(arrays)
    if architecture is not None and architecture != detected:
        one_of("architecture", architecture, tuple(TORCHVISION))
        raise ValueError(f"Expected a torchvision {architecture} state dict. Received: "
                         f"{source} holds {detected}'s weights")
    task, variant = TORCHVISION[detected]
    weights = _Weights(arrays, detected, source)
    trained_classes = arrays.get("roi_heads.box_predictor.cls_score.weight",
                                 np.zeros((91, 1))).shape[0]
    model = task.from_variant(variant, trained_classes, **overrides)
    _copy_body(weights, model.backbone.body)
    fpn = model.backbone.fpn
    for i in range(len(fpn.levels)):
        weights.conv_norm(fpn.lateral_convs[i], fpn.lateral_norms[i],
                          f"backbone.fpn.inner_blocks.{i}")
        weights.conv_norm(fpn.output_convs[i], fpn.output_norms[i],
                          f"backbone.fpn.layer_blocks.{i}")
    rpn = model.rpn_head
    for i, conv in enumerate(rpn.convs):
        weights.conv(conv, f"rpn.head.conv.{i}.0")
    weights.conv(rpn.objectness, "rpn.head.cls_logits")
    weights.conv(rpn.box_deltas, "rpn.head.bbox_pred")
    _copy_box_head(weights, model.box_head, model.box_roi_pool.output_size)
    weights.dense(model.box_predictor.classifier, "roi_heads.box_predictor.cls_score")
    weights.dense(model.box_predictor.box_deltas, "roi_heads.box_predictor.bbox_pred")
    if task is MaskRCNN:
        head = model.mask_head
        for i, (conv, norm) in enumerate(zip(head.convs, head.norms)):
            weights.conv_norm(conv, norm, f"roi_heads.mask_head.{i}")
        weights.conv_transpose(model.mask_predictor.upsample,
                               "roi_heads.mask_predictor.conv5_mask")
        weights.conv(model.mask_predictor.logits, "roi_heads.mask_predictor.mask_fcn_logits")
    if weights.arrays:
        raise ValueError(f"Expected only torchvision {detected} weights. Received: {source} "
                         f"with unused entries {sorted(weights.arrays)[:5]}")
    return model if num_classes is None else model.with_classes(num_classes)
