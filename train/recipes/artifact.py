"""`Artifact`: one exported graph of a run (what `Recipe.artifacts` lists)."""

import dataclasses

import keras


@dataclasses.dataclass(frozen=True)
class Artifact:
    """A model a run exports, and how.

    Attributes:
        name: None for a run's single artifact (``saved_model/<v>``,
            ``model.tflite``); else its part's name (``saved_model/<name>/<v>``,
            ``model_<name>.tflite``).
        model: the `keras.Model` to export.
        saved_model_kwargs: keyword arguments of `keras_zoo.export.to_saved_model`
            (e.g. ``{"raw_pixels": False}`` for float inputs).
    """

    name: str | None
    model: keras.Model
    saved_model_kwargs: dict = dataclasses.field(default_factory=dict)
