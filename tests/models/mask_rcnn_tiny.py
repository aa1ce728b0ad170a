"""A tiny Mask R-CNN configuration and synthetic data for fast tests (64x64 images)."""

import keras
import numpy as np

from keras_zoo import models
from keras_zoo.models.mask_rcnn import (
    AnchorGenerator,
    BalancedSampler,
    BoxHead,
    FeaturePyramid,
    FPNBackbone,
    MaskHead,
    MaskPredictor,
)

SIZE = 64
NUM_CLASSES = 3


def tiny_body(width=8):
    """Four strided 3x3 convolutions: normalised images -> C2..C5 (strides 4..32)."""
    images = keras.Input((None, None, 3), name="images")
    x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu",
                            name="c1")(images)
    features = {}
    for level in (2, 3, 4, 5):
        x = keras.layers.Conv2D(width * 2 ** (level - 2), 3, strides=2, padding="same",
                                activation="relu", name=f"c{level}")(x)
        features[f"C{level}"] = x
    return keras.Model(images, features, name="tiny_body")


def tiny_parts():
    """The parts of the tiny detector: a tiny body, 16-channel FPN, anchors 8..128, small
    heads, 64 anchors and 32 RoIs sampled per image."""
    return dict(
        backbone=FPNBackbone(tiny_body(), FeaturePyramid(16, name="fpn")),
        anchor_generator=AnchorGenerator((8, 16, 32, 64, 128)),
        box_head=BoxHead(fc_units=(32,)), mask_head=MaskHead(conv_filters=(16,)),
        mask_predictor=MaskPredictor(NUM_CLASSES, upsample_filters=16),
        rpn_sampler=BalancedSampler(64, 0.5), roi_sampler=BalancedSampler(32, 0.25))


def tiny_mask_rcnn(task=models.MaskRCNN, **overrides):
    """A `MaskRCNN` (or, with `task`, another detector) of `tiny_parts` on 64x64 images."""
    config = dict(num_classes=NUM_CLASSES, **tiny_parts(), min_size=SIZE, max_size=SIZE,
                  rpn_pre_nms_top_n=(300, 200), rpn_post_nms_top_n=(100, 50),
                  detections_per_image=10, seed=0)
    if task is models.FasterRCNN:
        del config["mask_head"], config["mask_predictor"]
    config.update(overrides)
    return task(**config)


def synthetic_batch(seed=0, num_images=2, max_objects=3, mask_size=16):
    """Images with filled rectangles and ellipses on noise; box-cropped masks."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (num_images, SIZE, SIZE, 3)).astype("uint8")
    boxes = np.zeros((num_images, max_objects, 4), "float32")
    classes = np.zeros((num_images, max_objects), "int32")
    masks = np.zeros((num_images, max_objects, mask_size, mask_size), "uint8")
    yy, xx = np.mgrid[:mask_size, :mask_size] + 0.5
    for b in range(num_images):
        for g in range(1 + b % max_objects):
            w, h = rng.integers(16, 40, 2)
            x0, y0 = rng.integers(0, SIZE - w), rng.integers(0, SIZE - h)
            cls = int(rng.integers(1, NUM_CLASSES))
            ellipse = cls == 2
            crop = (((xx / mask_size - 0.5) ** 2 + (yy / mask_size - 0.5) ** 2) < 0.25
                    if ellipse else np.ones((mask_size, mask_size), bool))
            big = np.kron(crop, np.ones((1, 1))).astype(bool)
            region = np.array(keras.ops.image.resize(big[..., None].astype("float32"),
                                                     (h, w), interpolation="nearest"))[..., 0]
            images[b, y0:y0 + h, x0:x0 + w][region > 0.5] = 200 if ellipse else 140
            boxes[b, g] = [x0, y0, x0 + w, y0 + h]
            classes[b, g] = cls
            masks[b, g] = crop
    return images, {"boxes": boxes, "classes": classes, "masks": masks}
