"""`BalancedSampler`: draws a fixed number of rows per image, a bounded share positive."""

import keras

from keras_zoo import ops
from keras_zoo.checks import fraction, positive_int
from keras_zoo.models.mask_rcnn._config_object import ConfigObject


@keras.saving.register_keras_serializable(package="keras_zoo")
class BalancedSampler(ConfigObject):
    """Balanced positive / negative sampling (Faster R-CNN, Ren et al. 2015, Sec. 3.1.3;
    torchvision's ``BalancedPositiveNegativeSampler``).

    Per image, ``min(#positives, int(num_samples * positive_fraction))`` positives and
    the rest of the ``num_samples`` from the negatives are drawn uniformly without
    replacement; ignored rows are never drawn. Defaults: the RPN's 256 anchors, half
    positive; the RoI heads use ``BalancedSampler(512, 0.25)`` (Mask R-CNN Sec. 3.1).

    Args:
        num_samples: rows per image.
        positive_fraction: largest positive share.

    Call arguments:
        labels: ``[B, N]`` int in {1, 0, -1} (a `Matcher`'s labels).
        seed: ``[2]`` or per-image ``[B, 2]`` int stateless seed.

    Returns:
        ``[B, num_samples]`` int32 row indices, -1 for padding
        (`ops.matching.sample_balanced`).

    Example:

    >>> BalancedSampler(2, 0.5)([[1, 0, -1]], seed=[0, 0]).shape
    TensorShape([1, 2])
    """

    def __init__(self, num_samples=256, positive_fraction=0.5):
        self.num_samples = positive_int("num_samples", num_samples)
        self.positive_fraction = fraction("positive_fraction", positive_fraction)

    def __call__(self, labels, seed):
        return ops.matching.sample_balanced(labels, self.num_samples, self.positive_fraction,
                                            seed)

    def get_config(self):
        return {"num_samples": self.num_samples, "positive_fraction": self.positive_fraction}
