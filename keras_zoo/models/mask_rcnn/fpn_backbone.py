"""`FPNBackbone`: a ResNet body and a feature pyramid, normalised images -> P2..P6."""

import keras

from keras_zoo.models.mask_rcnn.feature_pyramid import FeaturePyramid
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone
from keras_zoo.models.resnet.resnet_config import get_variant


def resnet_body(variant, norm_layer="frozen", freeze_at=2):
    """The ResNet body of a Mask R-CNN backbone: normalised images -> ``{"C2".."C5"}``.

    Batch normalisation is frozen by default (fixed statistics, as in Mask R-CNN and
    torchvision's detection models: 1-2 images per device are too few to estimate
    statistics) and the stem and conv2 stages do not train (``freeze_at=2``:
    torchvision's ``trainable_backbone_layers=3``, detectron2's FREEZE_AT).

    Args:
        variant: an ImageNet ResNet name ("resnet18" ... "resnet152").
        norm_layer: "frozen", "batch" or "sync" (`ResNetBackbone`).
        freeze_at: stages frozen from the bottom, 0..5 (`ResNetBackbone`).

    Returns:
        A functional `keras.Model` (the layer names of `ResNetBackbone`).
    """
    if get_variant(variant)["family"] != "imagenet":
        raise ValueError("Expected an ImageNet ResNet variant (resnet18 ... resnet152) for a "
                         f"feature pyramid. Received: variant={variant!r}")
    return ResNetBackbone(variant, input_shape=(None, None, 3), normalization="none",
                          norm_layer=norm_layer, freeze_at=freeze_at, name=f"{variant}_body")


@keras.saving.register_keras_serializable(package="keras_zoo")
class FPNBackbone(keras.Model):
    """ResNet + FPN backbone of Mask R-CNN (He et al. 2017, Sec. 3.1; Lin et al. 2017).

    Args:
        body: an ImageNet ResNet variant name ("resnet50", "resnet101", ...) built by
            :func:`resnet_body`, or a `keras.Model` mapping normalised images
            ``[B, H, W, 3]`` to a dict of consecutive levels ``{"C2": ..., "C5": ...}``
            (used as given).
        channels: FPN channels (256).
        norm_layer: for a named body, its normalisation ("frozen").
        freeze_at: for a named body, the stages frozen from the bottom (2: the stem
            and conv2, torchvision's ``trainable_backbone_layers=3``).
        **kwargs: `keras.Model` arguments (``name``).

    Call arguments:
        inputs: ``[B, H, W, 3]`` normalised images, ``H`` and ``W`` multiples of 32.

    Returns:
        ``{"P2": [B, H/4, W/4, channels], ..., "P6": [B, H/64, W/64, channels]}``.

    Example:

    >>> backbone = FPNBackbone("resnet18", channels=32)
    >>> backbone(np.zeros((1, 64, 64, 3), "float32"))["P2"].shape
    TensorShape([1, 16, 16, 32])
    """

    def __init__(self, body="resnet50", channels=256, norm_layer="frozen", freeze_at=2,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(body, dict):
            body = keras.saving.deserialize_keras_object(body)
        self.body = body if isinstance(body, keras.Model) else resnet_body(
            body, norm_layer, freeze_at)
        self.body_name = body if isinstance(body, str) else None
        self.channels = channels
        self.norm_layer = norm_layer
        self.freeze_at = freeze_at
        self.fpn = FeaturePyramid(channels, name="fpn")
        body_shapes = {k: tuple(v.shape) for k, v in self.body.output.items()}
        self.fpn.build(body_shapes)
        self.levels = sorted(self.fpn.compute_output_shape(body_shapes),
                             key=lambda name: int(name[1:]))
        self.built = True

    def call(self, inputs, training=None):
        return self.fpn(self.body(inputs, training=training))

    def compute_output_shape(self, input_shape):
        return self.fpn.compute_output_shape(self.body.compute_output_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        config.update({
            "body": self.body_name or keras.saving.serialize_keras_object(self.body),
            "channels": self.channels,
            "norm_layer": self.norm_layer,
            "freeze_at": self.freeze_at,
        })
        return config
