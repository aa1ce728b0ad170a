"""Model builders of keras_zoo."""
