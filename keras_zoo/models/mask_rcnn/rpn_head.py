"""`RPNHead`: objectness and box deltas for every anchor of every pyramid level."""

import keras
import tensorflow as tf

from keras_zoo.checks import positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class RPNHead(keras.layers.Layer):
    """Region Proposal Network head (Ren et al. 2015, Sec. 3.1; FPN Sec. 4.1).

    ``conv_depth`` 3x3 convolutions + ReLU shared by all levels (one in the paper;
    torchvision's v2 detectors use two), then two sibling 1x1 convolutions: ``A``
    objectness logits and ``4 A`` deltas per position, ``A`` anchors per position (the
    anchor generator's count: 3 aspect ratios). Weights ~ N(0, 0.01), biases 0 (as
    torchvision and detectron2).

    Args:
        num_anchors: anchors per position A (3: one size per level x 3 ratios).
        conv_depth: shared 3x3 convolutions before the two outputs.
        kernel_initializer: of every convolution.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: dict of levels ``{"P2": [B, H2, W2, C], ..., "P6": ...}`` (all C equal).

    Returns:
        ``(objectness, deltas)``: lists over levels (sorted by k) of ``[B, H_k * W_k * A]``
        logits and ``[B, H_k * W_k * A, 4]`` deltas ``(dx, dy, dw, dh)``, in the anchor
        order of ``ops.anchors`` (row, column, anchor).

    Example:

    >>> head = RPNHead()
    >>> obj, deltas = head({"P2": np.zeros((1, 8, 8, 16), "float32")})
    >>> obj[0].shape, deltas[0].shape
    (TensorShape([1, 192]), TensorShape([1, 192, 4]))
    """

    def __init__(self, num_anchors=3, conv_depth=1, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_anchors = positive_int("num_anchors", num_anchors)
        self.conv_depth = positive_int("conv_depth", conv_depth)
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.RandomNormal(stddev=0.01)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        channels = {shape[-1] for shape in input_shape.values()}
        if len(channels) != 1 or None in channels:
            raise ValueError("Expected every level with the same known channel count. "
                             f"Received: {dict(input_shape)}")
        (c,) = channels
        conv = {"kernel_initializer": self.kernel_initializer, "dtype": self.dtype_policy}
        self.convs = [keras.layers.Conv2D(c, 3, padding="same", activation="relu",
                                          name=f"conv{i + 1}", **conv)
                      for i in range(self.conv_depth)]
        self.objectness = keras.layers.Conv2D(self.num_anchors, 1, name="objectness", **conv)
        self.box_deltas = keras.layers.Conv2D(4 * self.num_anchors, 1, name="box_deltas",
                                              **conv)
        for layer in self.convs:
            layer.build((None, None, None, c))
        self.objectness.build((None, None, None, c))
        self.box_deltas.build((None, None, None, c))

    def call(self, inputs):
        objectness, deltas = [], []
        for name in sorted(inputs, key=lambda level: int(level[1:])):
            x = inputs[name]
            for conv in self.convs:
                x = conv(x)
            batch = tf.shape(x)[0]
            objectness.append(tf.reshape(self.objectness(x), [batch, -1]))
            deltas.append(tf.reshape(self.box_deltas(x), [batch, -1, 4]))
        return objectness, deltas

    def compute_output_shape(self, input_shape):
        objectness, deltas = [], []
        for name in sorted(input_shape, key=lambda level: int(level[1:])):
            b, h, w, _ = input_shape[name]
            n = None if h is None or w is None else h * w * self.num_anchors
            objectness.append((b, n))
            deltas.append((b, n, 4))
        return objectness, deltas

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_anchors": self.num_anchors,
            "conv_depth": self.conv_depth,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
