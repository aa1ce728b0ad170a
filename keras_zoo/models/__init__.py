"""Model builders of keras_zoo."""
from keras_zoo.models.concrete_vae import ConcreteVAE  # noqa: F401
