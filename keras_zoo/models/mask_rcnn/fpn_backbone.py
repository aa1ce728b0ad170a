"""`FPNBackbone`: a ResNet body and a feature pyramid, normalised images -> P2..P6."""

import keras

from keras_zoo.models.mask_rcnn.feature_pyramid import FeaturePyramid
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone
from keras_zoo.models.resnet.variants import get_variant


def _deserialized(value):
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value


@keras.saving.register_keras_serializable(package="keras_zoo")
class FPNBackbone(keras.Model):
    """ResNet + FPN backbone of Mask R-CNN (He et al. 2017, Sec. 3.1; Lin et al. 2017), a
    functional model made of two parts: the ``body`` (normalised images -> C2..C5) and
    the ``fpn`` (C2..C5 -> P2..P6). The body's layers are the backbone's own
    (``backbone.body`` is the body model, sharing them).

    `from_variant` builds the paper's: a ResNet body with frozen batch normalisation and
    the stem and conv2 frozen (torchvision's ``trainable_backbone_layers=3``), and a
    256-channel FPN.

    Args:
        body: a functional `keras.Model` mapping normalised images ``[B, H, W, 3]`` to a
            dict of consecutive levels ``{"C2": ..., "C5": ...}`` (a `ResNetBackbone` with
            ``normalization="none"``), or its serialised config.
        fpn: the neck, a `FeaturePyramid` (or its config); None: ``FeaturePyramid(256)``.
        **kwargs: `keras.Model` arguments (``name``, ``trainable``).

    Call arguments:
        inputs: ``[B, H, W, 3]`` normalised images, ``H`` and ``W`` multiples of 32.

    Returns:
        ``{"P2": [B, H/4, W/4, channels], ..., "P6": [B, H/64, W/64, channels]}``.

    Example:

    >>> backbone = FPNBackbone.from_variant("resnet18", channels=32)
    >>> backbone(np.zeros((1, 64, 64, 3), "float32"))["P2"].shape
    TensorShape([1, 16, 16, 32])
    """

    def __init__(self, body, fpn=None, **kwargs):
        body = _deserialized(body)
        fpn = _deserialized(fpn) if fpn is not None else FeaturePyramid(256, name="fpn")
        if not isinstance(body, keras.Model) or not isinstance(getattr(body, "output", None),
                                                               dict):
            raise ValueError("Expected a functional keras.Model body with a dict of levels "
                             "{'C2': ..., 'C5': ...} (a models.ResNetBackbone). Received: "
                             f"body of type {type(body).__name__}")
        policy = keras.dtype_policies.get(kwargs.pop("dtype", None) or body.dtype_policy)
        super().__init__(inputs=body.input, outputs=fpn(body.output), **kwargs)
        self.dtype_policy = policy  # functional models take no `dtype` argument
        self.body = body
        self.fpn = fpn

    @classmethod
    def from_variant(cls, variant="resnet50", *, channels=256, norm_layer="frozen", freeze_at=2,
                     fpn_norm_layer=None, **kwargs):
        """The paper's backbone on an ImageNet ResNet of `resnet.VARIANTS`.

        Args:
            variant: "resnet18" ... "resnet152".
            channels: FPN channels (256, FPN Sec. 3).
            norm_layer: the body's normalisation: "frozen" (fixed statistics, as Mask
                R-CNN and torchvision: 1-2 images per device are too few to estimate
                them), "batch" or "sync".
            freeze_at: stages of the body frozen from the bottom (`ResNetBackbone`).
            fpn_norm_layer: the FPN's normalisation (`FeaturePyramid`): None (the
                paper's) or "batch" (torchvision's v2 detectors), "frozen", "sync".
            **kwargs: `keras.Model` arguments (``name``).
        """
        if get_variant(variant)["stem"] != "imagenet":
            raise ValueError("Expected an ImageNet ResNet variant (resnet18 ... resnet152) for "
                             f"a feature pyramid. Received: variant={variant!r}")
        body = ResNetBackbone.from_variant(variant, input_shape=(None, None, 3),
                                           normalization="none", norm_layer=norm_layer,
                                           freeze_at=freeze_at, name=f"{variant}_body")
        return cls(body, FeaturePyramid(channels, norm_layer=fpn_norm_layer, name="fpn"), **kwargs)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable,
                "dtype": keras.dtype_policies.serialize(self.dtype_policy),
                "body": keras.saving.serialize_keras_object(self.body),
                "fpn": keras.saving.serialize_keras_object(self.fpn)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
