"""Export of any keras.Model: SavedModel (TF Serving layout), TFLite, ONNX."""

from keras_zoo.export._common import FLOAT_TOLERANCE, ExportVerificationError
from keras_zoo.export.saved_model import to_saved_model

__all__ = ["FLOAT_TOLERANCE", "ExportVerificationError", "to_saved_model"]
