"""Keras layers of keras_zoo."""
from keras_zoo.layers.basic_block import BasicBlock  # noqa: F401
from keras_zoo.layers.bottleneck_block import BottleneckBlock  # noqa: F401
from keras_zoo.layers.frozen_batch_normalization import FrozenBatchNormalization  # noqa: F401
from keras_zoo.layers.image_normalization import ImageNormalization  # noqa: F401
from keras_zoo.layers.keep_schedule import keep_schedule  # noqa: F401
from keras_zoo.layers.multi_level_roi_align import MultiLevelRoIAlign  # noqa: F401
from keras_zoo.layers.norm_layer import NORM_LAYERS, get_norm_layer  # noqa: F401
from keras_zoo.layers.relaxed_bernoulli import RelaxedBernoulli  # noqa: F401
from keras_zoo.layers.relaxed_one_hot_categorical import RelaxedOneHotCategorical  # noqa: F401
from keras_zoo.layers.roi_align import RoIAlign  # noqa: F401
from keras_zoo.layers.stochastic_depth import StochasticDepth  # noqa: F401
from keras_zoo.layers.swapout import Swapout  # noqa: F401
from keras_zoo.layers.walk_layers import walk_layers  # noqa: F401
