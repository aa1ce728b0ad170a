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


def _torchvision(class_name, architecture, file, box_ap, mask_ap=None):
    published = {"COCO val2017 box AP": box_ap, "reference": _TORCHVISION_DOCS}
    if mask_ap is not None:
        published["COCO val2017 mask AP"] = mask_ap
    return {"class_name": class_name, "source": "torchvision", "architecture": architecture,
            "file": file, "published": published}


def _keras_applications(architecture, top1, top5):
    return {"class_name": "ImageClassifier", "source": "keras-applications",
            "architecture": architecture,
            "file": f"{architecture}_weights_tf_dim_ordering_tf_kernels.h5",
            "published": {"ImageNet val top-1": top1, "ImageNet val top-5": top5,
                          "reference": _KERAS_DOCS}}


KNOWN_PRESETS = {
    "mask_rcnn_resnet50_fpn_coco": _torchvision(
        "MaskRCNN", "maskrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth", 37.9, 34.6),
    "mask_rcnn_resnet50_fpn_v2_coco": _torchvision(
        "MaskRCNN", "maskrcnn_resnet50_fpn_v2", "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth",
        47.4, 41.8),
    "faster_rcnn_resnet50_fpn_coco": _torchvision(
        "FasterRCNN", "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth", 37.0),
    "faster_rcnn_resnet50_fpn_v2_coco": _torchvision(
        "FasterRCNN", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth",
        46.7),
    "resnet50_imagenet": _keras_applications("resnet50", 0.749, 0.921),
    "resnet101_imagenet": _keras_applications("resnet101", 0.764, 0.928),
    "resnet152_imagenet": _keras_applications("resnet152", 0.766, 0.931),
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
