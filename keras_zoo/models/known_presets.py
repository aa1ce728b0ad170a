"""The presets keras_zoo knows how to make, as data: which file to download (keras_zoo
never downloads), the one command that converts it, and the published accuracy of its
weights (recorded in the preset's metadata by ``keras-zoo convert``).

A preset's name is also the directory ``keras-zoo convert`` writes by default, so
``models.MaskRCNN.from_preset("mask_rcnn_resnet50_fpn_v2_coco")`` loads it from the
working directory once converted.
"""

import os

_TORCHVISION_URL = "https://download.pytorch.org/models/"
_KERAS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# torchvision's weights tables (COCO val2017 box / mask AP of each builder's COCO_V1).
_TORCHVISION_DOCS = "https://pytorch.org/vision/stable/models.html"
# keras.io/api/applications: single 224 crop top-1 / top-5 on ImageNet val.
_KERAS_DOCS = "https://keras.io/api/applications/"

KNOWN_PRESETS = {
    "mask_rcnn_resnet50_fpn_coco": {
        "class_name": "MaskRCNN", "source": "torchvision", "architecture": "maskrcnn_resnet50_fpn",
        "file": "maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth",
        "published": {"COCO val2017 box AP": 37.9, "COCO val2017 mask AP": 34.6,
                      "reference": _TORCHVISION_DOCS}},
    "mask_rcnn_resnet50_fpn_v2_coco": {
        "class_name": "MaskRCNN", "source": "torchvision",
        "architecture": "maskrcnn_resnet50_fpn_v2",
        "file": "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth",
        "published": {"COCO val2017 box AP": 47.4, "COCO val2017 mask AP": 41.8,
                      "reference": _TORCHVISION_DOCS}},
    "faster_rcnn_resnet50_fpn_coco": {
        "class_name": "FasterRCNN", "source": "torchvision",
        "architecture": "fasterrcnn_resnet50_fpn",
        "file": "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth",
        "published": {"COCO val2017 box AP": 37.0, "reference": _TORCHVISION_DOCS}},
    "faster_rcnn_resnet50_fpn_v2_coco": {
        "class_name": "FasterRCNN", "source": "torchvision",
        "architecture": "fasterrcnn_resnet50_fpn_v2",
        "file": "fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth",
        "published": {"COCO val2017 box AP": 46.7, "reference": _TORCHVISION_DOCS}},
    "resnet50_imagenet": {
        "class_name": "ImageClassifier", "source": "keras-applications",
        "architecture": "resnet50", "file": "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        "published": {"ImageNet val top-1": 0.749, "ImageNet val top-5": 0.921,
                      "reference": _KERAS_DOCS}},
    "resnet101_imagenet": {
        "class_name": "ImageClassifier", "source": "keras-applications",
        "architecture": "resnet101", "file": "resnet101_weights_tf_dim_ordering_tf_kernels.h5",
        "published": {"ImageNet val top-1": 0.764, "ImageNet val top-5": 0.928,
                      "reference": _KERAS_DOCS}},
    "resnet152_imagenet": {
        "class_name": "ImageClassifier", "source": "keras-applications",
        "architecture": "resnet152", "file": "resnet152_weights_tf_dim_ordering_tf_kernels.h5",
        "published": {"ImageNet val top-1": 0.766, "ImageNet val top-5": 0.931,
                      "reference": _KERAS_DOCS}},
}


def download_url(entry):
    """Where a `KNOWN_PRESETS` entry's file is published."""
    base = _TORCHVISION_URL if entry["source"] == "torchvision" else _KERAS_URL
    return base + entry["file"]


def known_preset_help(name):
    """One line for a known preset `name` that is not converted yet (None for other names):
    the file to download and the command that converts it."""
    entry = KNOWN_PRESETS.get(name)
    if entry is None:
        return None
    return (f"download {download_url(entry)} and run: keras-zoo convert {entry['source']} "
            f"{entry['file']} --out {name}")


def find_known_file(path):
    """``(name, entry)`` of the `KNOWN_PRESETS` entry whose published file has the base
    name of `path`, or ``(None, None)``."""
    base = os.path.basename(os.fspath(path))
    for name, entry in KNOWN_PRESETS.items():
        if entry["file"] == base:
            return name, entry
    return None, None
