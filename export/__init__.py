"""Export of any keras.Model: SavedModel (TF Serving layout), TFLite, ONNX."""
