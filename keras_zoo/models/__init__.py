"""Model builders of keras_zoo."""
from keras_zoo.models.concrete_vae import ConcreteVAE  # noqa: F401
from keras_zoo.models.stochastic_inference import (  # noqa: F401
    sampled_probabilities,
    stochastic_mode,
    stochastic_predict,
    stochastic_serving_fn,
)
from keras_zoo.models.swapout_resnet import SwapoutResNet  # noqa: F401
from keras_zoo.models.wide_resnet import WideResNet  # noqa: F401
