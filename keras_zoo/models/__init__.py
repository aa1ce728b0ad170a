"""Model builders of keras_zoo."""
from keras_zoo.models import mask_rcnn, nas, resnet  # noqa: F401
from keras_zoo.models.concrete_vae import ConcreteVAE  # noqa: F401
from keras_zoo.models.loss_terms import LossTermsModel  # noqa: F401
from keras_zoo.models.mask_rcnn import FasterRCNN, MaskRCNN  # noqa: F401
from keras_zoo.models.mask_rcnn_tiny import MaskRCNNTiny  # noqa: F401
from keras_zoo.models.resnet import *  # noqa: F403  (resnet.__all__: ImageClassifier, ResNet20 ...)
from keras_zoo.models.stochastic_inference import (  # noqa: F401
    has_stochastic_layers,
    sampled_probabilities,
    stochastic_mode,
    stochastic_predict,
)
from keras_zoo.models.swapout_resnet import SwapoutResNet  # noqa: F401
from keras_zoo.models.wide_resnet import WideResNet  # noqa: F401
