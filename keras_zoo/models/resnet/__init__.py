"""ResNet family (He et al. 2015, arXiv:1512.03385): `ResNetBackbone` (its constructor
arguments are its config), the `VARIANTS` table of named networks, the
`ImageClassifier` task, the CamelCase factories, and weight interop with
`keras.applications`."""

from keras_zoo.models.resnet.factories import (  # noqa: F401
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
)
from keras_zoo.models.resnet.image_classifier import ImageClassifier  # noqa: F401
from keras_zoo.models.resnet.keras_applications import (  # noqa: F401
    copy_to_keras_applications,
    from_keras_applications,
    load_from_keras_applications,
)
from keras_zoo.models.resnet.merges import merge_layers  # noqa: F401
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone  # noqa: F401
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS  # noqa: F401

# What `keras_zoo.models` re-exports: the backbone, the task and one factory per variant.
__all__ = ["ImageClassifier", "ResNetBackbone",
           *(factory.__name__ for factory in FACTORIES.values())]
