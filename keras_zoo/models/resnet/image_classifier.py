"""`ImageClassifier`: a task model, a backbone's last feature map -> class probabilities."""

import keras

from keras_zoo.checks import positive_int
from keras_zoo.models.preset import PresetMixin


def _last_level(outputs):
    """The deepest map of a backbone's outputs: the highest level of a pyramid dict
    (``{"C2": ..., "C5": ...}``), or the single output tensor."""
    if isinstance(outputs, dict):
        return outputs[max(outputs, key=lambda name: int(name[1:]))]
    return outputs


@keras.saving.register_keras_serializable(package="keras_zoo")
class ImageClassifier(PresetMixin, keras.Model):
    """Backbone + global average pooling + a `num_classes`-way fully connected layer
    (He et al. 2015, Sec. 3.4 / 4.2; the keras-hub backbone / task split).

    The classifier's graph is the backbone's graph continued (the backbone's layers are
    the classifier's own, not a nested model): `get_layer("normalization")`,
    `get_layer("conv1_conv")` reach into the backbone, and ``classifier.backbone`` is
    the backbone model (sharing those layers). Replacing the head for new classes is
    ``ImageClassifier(classifier.backbone, new_num_classes)``.

    Args:
        backbone: a functional `keras.Model` from raw pixels to a feature-pyramid dict
            ``{"C<k>": ...}`` (`ResNetBackbone`) or to one feature map ``[B, H, W, C]``.
        num_classes: classes of the fully connected layer "fc".
        classifier_activation: "softmax", or None for logits; the final "predictions"
            layer runs in float32, so mixed precision keeps float32 outputs.
        head_regularizer: optional regulariser of the fc kernel (the backbone's layers
            carry their own).
        **kwargs: `keras.Model` arguments (`name`, `trainable`; `dtype`, by default the
            backbone's policy, for the head).

    Call arguments:
        inputs: what the backbone takes (``[B, H, W, C]`` raw pixels).

    Returns:
        ``[B, num_classes]`` float32 probabilities (or logits).

    Example:

    >>> backbone = ResNetBackbone.from_variant("resnet20")
    >>> ImageClassifier(backbone, 10).output_shape
    (None, 10)
    """

    def __init__(self, backbone, num_classes, *, classifier_activation="softmax",
                 head_regularizer=None, **kwargs):
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if not isinstance(backbone, keras.Model) or not getattr(backbone, "inputs", None):
            raise ValueError("Expected a functional keras.Model backbone (e.g. "
                             "models.ResNetBackbone). Received: "
                             f"backbone of type {type(backbone).__name__}")
        positive_int("num_classes", num_classes)
        regularizer = keras.regularizers.get(head_regularizer)
        policy = keras.dtype_policies.get(kwargs.pop("dtype", None) or backbone.dtype_policy)
        x = keras.layers.GlobalAveragePooling2D(dtype=policy, name="avg_pool")(
            _last_level(backbone.output))
        x = keras.layers.Dense(num_classes, kernel_regularizer=regularizer, dtype=policy,
                               name="fc")(x)
        outputs = keras.layers.Activation(classifier_activation or "linear", dtype="float32",
                                          name="predictions")(x)
        inputs = backbone.inputs[0] if len(backbone.inputs) == 1 else backbone.inputs
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = policy  # functional models take no `dtype` argument
        self.backbone = backbone
        self.num_classes = int(num_classes)
        self.classifier_activation = classifier_activation
        self.head_regularizer = (None if regularizer is None
                                 else keras.saving.serialize_keras_object(regularizer))

    @classmethod
    def _from_other_preset(cls, preset_cls, directory, load, overrides):
        """A new classifier on a backbone preset (`ResNetBackbone`): ``num_classes`` (and
        the other arguments) given, the head freshly initialised."""
        from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone  # imports this

        if issubclass(preset_cls, ResNetBackbone):
            if "num_classes" not in overrides:
                raise ValueError(f"Expected num_classes= to put a new classifier on the "
                                 f"backbone preset {directory}. Received: none")
            return cls(load(), **overrides)
        return super()._from_other_preset(preset_cls, directory, load, overrides)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "classifier_activation": self.classifier_activation,
            "head_regularizer": self.head_regularizer,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
