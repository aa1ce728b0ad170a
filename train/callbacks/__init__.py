"""Keras callbacks for keras_zoo training runs."""
