"""Keras layers of keras_zoo."""
