"""`MaskRCNNTiny`: a Mask R-CNN sized for CPUs and images of ~128 pixels."""

from keras_zoo.models.mask_rcnn import (
    AnchorGenerator,
    BalancedSampler,
    BoxHead,
    FPNBackbone,
    MaskHead,
    MaskPredictor,
    MaskRCNN,
    roi_poolers,
)


def MaskRCNNTiny(num_classes=11, *, channels=64, norm_layer="batch", freeze_at=0,
                 use_roi_align=True, min_size=128, max_size=192, seed=None, **kwargs):
    """Mask R-CNN with FPN (He et al. 2017) at the scale of small images, for CPU training.

    The paper's architecture with narrower parts: a ResNet-18 body whose batch
    normalisation trains (there are no pretrained weights to freeze: every stage
    trains), a 64-channel FPN (P2-P6), the box head's two fully connected layers of
    256, the mask head's four 3x3 convolutions of 64 channels (14x14 RoIAlign, 28x28
    masks); anchors 16..256 (one size per level, ratios 0.5, 1, 2) for objects of
    ~15-60 pixels; 1000 / 500 proposals per level before NMS and 500 / 300 after
    (train / test), 128 sampled RoIs per image (25% positive).

    Args:
        num_classes: classifier outputs, background included (11: the ten digits).
        channels: FPN and mask-head channels.
        norm_layer: the body's normalisation ("batch", "sync" or "frozen").
        freeze_at: stages of the body frozen from the bottom (0: none).
        use_roi_align: False makes both RoI poolers RoIPool (the paper's Table 2c
            ablation).
        min_size, max_size: the resize policy (shorter side, bound on the longer one).
        seed: the anchor and RoI sampling seed.
        **kwargs: other `MaskRCNN` arguments (parts or settings).

    Returns:
        A `MaskRCNN`.

    Example:

    >>> model = MaskRCNNTiny(num_classes=3, seed=0)
    >>> model.predict(np.zeros((1, 128, 128, 3), "uint8"), verbose=0)["masks"].shape
    (1, 100, 28, 28)
    """
    parts = {
        **roi_poolers(use_roi_align=use_roi_align),
        "backbone": FPNBackbone.from_variant("resnet18", channels=channels, norm_layer=norm_layer,
                                             freeze_at=freeze_at, name="backbone"),
        "anchor_generator": AnchorGenerator((16, 32, 64, 128, 256)),
        "box_head": BoxHead(fc_units=(256, 256), name="box_head"),
        "mask_head": MaskHead(conv_filters=(channels,) * 4, name="mask_head"),
        "mask_predictor": MaskPredictor(num_classes, upsample_filters=channels,
                                        name="mask_predictor"),
        "roi_sampler": BalancedSampler(128, 0.25),
    }
    return MaskRCNN(num_classes, **{**parts, **kwargs}, min_size=min_size, max_size=max_size,
                    rpn_pre_nms_top_n=(1000, 500), rpn_post_nms_top_n=(500, 300), seed=seed)
