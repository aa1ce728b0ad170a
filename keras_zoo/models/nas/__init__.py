"""Neural Architecture Search with reinforcement learning (Zoph & Le 2016, arXiv:1611.01578).

`SearchSpace` describes the CNN space and the controller's decisions,
`Architecture` (of `LayerSpec` layers) is one child as a plain value,
`Controller` is the autoregressive LSTM policy, and `build_child` turns an
architecture into a `keras.Model`. The search loop, its policy-gradient
updates and the child trainer live in `keras_zoo.train.nas`.
"""

from keras_zoo.models.nas.architecture import Architecture
from keras_zoo.models.nas.build_child import build_child
from keras_zoo.models.nas.controller import Controller
from keras_zoo.models.nas.layer_spec import LayerSpec
from keras_zoo.models.nas.search_space import Decision, SearchSpace

__all__ = ["Architecture", "Controller", "Decision", "LayerSpec", "SearchSpace", "build_child"]
