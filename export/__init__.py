"""Export of any keras.Model: SavedModel (TF Serving layout), TFLite, ONNX.

`to_onnx` needs the `onnx` extra (``pip install keras_zoo[onnx]``); it imports
its converter only when called.
"""

from keras_zoo.export._common import FLOAT_TOLERANCE, ExportVerificationError
from keras_zoo.export.onnx import to_onnx
from keras_zoo.export.saved_model import to_saved_model
from keras_zoo.export.stochastic import stochastic_serving_fn
from keras_zoo.export.tflite import to_tflite

__all__ = ["FLOAT_TOLERANCE", "ExportVerificationError", "stochastic_serving_fn", "to_onnx",
           "to_saved_model", "to_tflite"]
