"""Keras callbacks for keras_zoo training runs."""
from keras_zoo.train.callbacks.temperature_annealing import TemperatureAnnealing  # noqa: F401
