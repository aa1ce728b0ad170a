"""`BoxCoder`: boxes to regression deltas relative to reference boxes, and back."""

import keras

from keras_zoo import ops
from keras_zoo.models.mask_rcnn._config_object import ConfigObject


@keras.saving.register_keras_serializable(package="keras_zoo")
class BoxCoder(ConfigObject):
    """R-CNN box coding (Faster R-CNN, Ren et al. 2015, Eq. 2, with detectron2's and
    torchvision's weights): ``dx = wx (x - xa) / wa``, ``dy = wy (y - ya) / ha``,
    ``dw = ww log(w / wa)``, ``dh = wh log(h / ha)``; decoding clamps ``dw / ww`` and
    ``dh / wh`` at ``scale_clamp``.

    Defaults: the RPN's unit weights; the RoI heads use ``BoxCoder((10, 10, 5, 5))``.

    Args:
        weights: ``(wx, wy, ww, wh)``, positive.
        scale_clamp: upper bound of the decoded log-scale (log(1000 / 16)).

    Example:

    >>> coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    >>> coder.decode(coder.encode([[0, 0, 8, 8]], [[0, 0, 10, 10]]), [[0, 0, 10, 10]]).numpy()
    array([[0., 0., 8., 8.]], dtype=float32)
    """

    def __init__(self, weights=ops.boxes.RPN_BOX_WEIGHTS, scale_clamp=ops.boxes.BOX_SCALE_CLAMP):
        weights = tuple(float(w) for w in weights)
        if len(weights) != 4 or min(weights) <= 0:
            raise ValueError("Expected weights to be 4 positive numbers (wx, wy, ww, wh). "
                             f"Received: weights={weights}")
        self.weights = weights
        self.scale_clamp = float(scale_clamp)

    def encode(self, boxes, reference):
        """Deltas ``[..., 4]`` mapping ``reference`` boxes onto ``boxes`` (both ``xyxy``)."""
        return ops.boxes.encode(boxes, reference, self.weights)

    def decode(self, deltas, reference):
        """Boxes ``[..., 4]`` ``xyxy``: ``deltas`` applied to ``reference`` (not clipped)."""
        return ops.boxes.decode(deltas, reference, self.weights, self.scale_clamp)

    def get_config(self):
        return {"weights": self.weights, "scale_clamp": self.scale_clamp}
