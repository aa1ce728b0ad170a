"""ResNet family (He et al. 2015, arXiv:1512.03385): the one graph builder and its config,
backbone, classifiers, variants table, and weight interop with `keras.applications`."""

from keras_zoo.models.resnet.keras_applications import (  # noqa: F401
    copy_to_keras_applications,
    from_keras_applications,
    load_from_keras_applications,
)
from keras_zoo.models.resnet.resnet_backbone import (  # noqa: F401
    ResNetBackbone,
    build_backbone,
    resnet_features,
)
from keras_zoo.models.resnet.resnet_classifier import (  # noqa: F401
    FACTORIES,
    ResNet18,
    ResNet20,
    ResNet32,
    ResNet34,
    ResNet44,
    ResNet50,
    ResNet56,
    ResNet101,
    ResNet110,
    ResNet152,
    ResNet1202,
    build_classifier,
)
from keras_zoo.models.resnet.resnet_config import ResNetConfig  # noqa: F401
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS  # noqa: F401

# What `keras_zoo.models` re-exports: the backbone and one factory per variant.
__all__ = ["ResNetBackbone", *(factory.__name__ for factory in FACTORIES.values())]
