"""`BoxPredictor`: class scores and class-specific box deltas of each RoI."""

import keras

from keras_zoo.checks import positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class BoxPredictor(keras.layers.Layer):
    """Fast R-CNN's sibling outputs (Girshick 2015, Sec. 2; torchvision's
    ``FastRCNNPredictor``): a classifier over ``num_classes`` (background 0 included)
    and 4 box deltas per class. Weights start as N(0, 0.01) and N(0, 0.001)
    (detectron2). Replacing it (``detector.replace(box_predictor=BoxPredictor(n))``)
    retargets a detector to n - 1 new classes.

    Args:
        num_classes: classifier outputs, background included (91 for COCO's ids).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: ``[K, D]`` RoI features (a `BoxHead`'s).

    Returns:
        ``(logits [K, num_classes], deltas [K, num_classes, 4])``, deltas for the RoI
        heads' `BoxCoder` ((10, 10, 5, 5) by default).

    Example:

    >>> logits, deltas = BoxPredictor(3)(np.zeros((2, 16), "float32"))
    >>> logits.shape, deltas.shape
    (TensorShape([2, 3]), TensorShape([2, 3, 4]))
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        if positive_int("num_classes", num_classes) < 2:
            raise ValueError("Expected num_classes >= 2 (background included). "
                             f"Received: num_classes={num_classes!r}")
        self.num_classes = int(num_classes)

    def build(self, input_shape):
        self.classifier = keras.layers.Dense(
            self.num_classes, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
            dtype=self.dtype_policy, name="classifier")
        self.box_deltas = keras.layers.Dense(
            4 * self.num_classes, kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            dtype=self.dtype_policy, name="box_deltas")
        self.classifier.build(input_shape)
        self.box_deltas.build(input_shape)

    def call(self, inputs):
        deltas = keras.ops.reshape(self.box_deltas(inputs), (-1, self.num_classes, 4))
        return self.classifier(inputs), deltas

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes), (input_shape[0], self.num_classes, 4)

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
