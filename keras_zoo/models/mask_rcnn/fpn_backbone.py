"""`FPNBackbone`: a ResNet body and a feature pyramid, normalised images -> P2..P6."""

import keras

from keras_zoo.models.mask_rcnn.feature_pyramid import FeaturePyramid
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone, get_variant

# torchvision's trainable_backbone_layers counts stages from the top:
# 3 trains conv3..conv5 (layer2..layer4) and freezes the stem and conv2 (detectron2 FREEZE_AT=2).
_STAGES_TOP_DOWN = ("conv5", "conv4", "conv3", "conv2", "conv1")


def resnet_body(variant, trainable_layers=3, frozen_bn=True):
    """The ResNet body of a Mask R-CNN backbone: normalised images -> ``{"C2".."C5"}``.

    Batch normalisation is frozen (affine with fixed statistics, as in Mask R-CNN
    and torchvision's detection models: the batches are too small to estimate
    statistics) and the lowest ``5 - trainable_layers`` stages do not train.

    Args:
        variant: an ImageNet ResNet name ("resnet18" ... "resnet152").
        trainable_layers: stages trained, counted from the top (0..5; 3 as torchvision).
        frozen_bn: freeze every BatchNormalization layer.

    Returns:
        A functional `keras.Model` (the layer names of `ResNetBackbone`).
    """
    if get_variant(variant)["family"] != "imagenet":
        raise ValueError("Expected an ImageNet ResNet variant (resnet18 ... resnet152) for a "
                         f"feature pyramid. Received: variant={variant!r}")
    if not isinstance(trainable_layers, int) or not 0 <= trainable_layers <= 5:
        raise ValueError("Expected trainable_layers to be an int in [0, 5]. "
                         f"Received: trainable_layers={trainable_layers!r}")
    body = ResNetBackbone(variant, input_shape=(None, None, 3), normalization="none",
                          name=f"{variant}_body")
    frozen = _STAGES_TOP_DOWN[trainable_layers:]
    for layer in body.layers:
        if layer.name.split("_")[0] in frozen:
            layer.trainable = False
    if frozen_bn:
        for layer in body._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False  # Keras BN then runs in inference mode
    return body


@keras.saving.register_keras_serializable(package="keras_zoo")
class FPNBackbone(keras.Model):
    """ResNet + FPN backbone of Mask R-CNN (He et al. 2017, Sec. 3.1; Lin et al. 2017).

    Args:
        body: an ImageNet ResNet variant name ("resnet50", "resnet101", ...) built by
            :func:`resnet_body`, or a `keras.Model` mapping normalised images
            ``[B, H, W, 3]`` to a dict of consecutive levels ``{"C2": ..., "C5": ...}``
            (used as given).
        channels: FPN channels (256).
        trainable_layers: for a named body, the stages trained from the top (3).
        frozen_bn: for a named body, freeze its batch normalisation (True).
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

    def __init__(self, body="resnet50", channels=256, trainable_layers=3, frozen_bn=True,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(body, dict):
            body = keras.saving.deserialize_keras_object(body)
        self.body = body if isinstance(body, keras.Model) else resnet_body(
            body, trainable_layers, frozen_bn)
        self.body_name = body if isinstance(body, str) else None
        self.channels = channels
        self.trainable_layers = trainable_layers
        self.frozen_bn = bool(frozen_bn)
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
            "trainable_layers": self.trainable_layers,
            "frozen_bn": self.frozen_bn,
        })
        return config
