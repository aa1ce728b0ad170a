"""`open_source`: what ``keras-zoo predict``, ``evaluate`` and ``export`` read, a run
directory (its ``config.json`` and a checkpoint) or a preset (``config.json``,
``model.weights.h5``, ``metadata.json``: `keras_zoo.models.preset`).

A preset carries no training configuration: it is read with the recipe of its task
(`PRESET_RECIPES`: a detector's COCO recipe, an ImageNet classifier's), whose defaults
stand in for a run's settings, and the categories or class names of its metadata.
"""

import dataclasses

from keras_zoo.models import preset as presets
from keras_zoo.train import precision as precisions
from keras_zoo.train import recipes
from keras_zoo.train.run_dir import load_checkpoint, read_config

# A preset's class (metadata "class_name") -> (recipe, the registry's model name).
PRESET_RECIPES = {"keras_zoo>MaskRCNN": ("mask_rcnn", "mask-rcnn"),
                  "keras_zoo>FasterRCNN": ("mask_rcnn", "mask-rcnn"),
                  "keras_zoo>ImageClassifier": ("resnet_imagenet", None),
                  "keras_zoo>ResNetBackbone": (None, None)}


@dataclasses.dataclass
class ModelSource:
    """A run directory or a preset, read but not loaded (`load`)."""

    path: str
    config: dict  # the run's configuration; for a preset, its recipe's defaults and metadata
    recipe: object  # a `recipes.Recipe`, or None (a backbone preset: export only)
    checkpoint: str = "last"
    metadata: dict = None  # a preset's metadata.json; None for a run
    mode: str = None  # how `load` runs it (`precision.inference_mode`)

    @property
    def is_preset(self):
        return self.metadata is not None

    @property
    def is_detector(self):
        return "categories" in self.config

    def load(self, precision="float32"):
        """The model, run as `precision` says (`precision.inference_mode`: "auto" picks
        bfloat16 for detectors and presets where the CPU has it)."""
        mode = precisions.inference_mode(precision, covered=self.is_preset or self.is_detector,
                                         detector=self.is_detector)
        self.mode = mode
        policy = precisions.POLICY if mode == precisions.POLICY else None
        if self.is_preset:
            return presets.load_preset(self.path, dtype_policy=policy)
        model = load_checkpoint(self.path, self.checkpoint)
        return model if policy is None else presets.rebuild_with_policy(model, policy)

    def running(self):
        """The context to run the loaded model in (TensorFlow's bfloat16 rewrite on, when
        `load` chose it)."""
        return precisions.rewrite_scope(self.mode == precisions.REWRITE)

    def require_recipe(self, what):
        if self.recipe is None:
            raise ValueError(f"Expected a run or the preset of a task (a detector or a "
                             f"classifier) to {what}. Received: {self.path}, a preset of "
                             f"{self.metadata['class_name'].split('>')[-1]}")
        return self.recipe


def _generic_categories(num_classes):
    return [{"index": i, "id": i, "name": f"class {i}"} for i in range(1, num_classes)]


def _preset_source(path, checkpoint):
    metadata = presets.load_metadata(path)
    recipe_name, model_name = PRESET_RECIPES.get(metadata.get("class_name"), (None, None))
    if recipe_name is None:
        return ModelSource(path, {}, None, checkpoint, metadata)
    recipe = recipes.get(recipe_name)
    config = {**recipe.get_config(model_name), "model": model_name or "classifier", "seed": 0,
              "mixed_precision": False, "data_dir": None}
    if recipe_name == "mask_rcnn":
        config["categories"] = metadata.get("categories") or _generic_categories(
            int(metadata["num_classes"]))
    else:
        size = metadata.get("input_size")
        if size:  # the classifier's fixed input: its crop, resized from 256/224 of it
            config.update(crop_size=size[0], resize_size=round(size[0] * 256 / 224))
        config["class_names"] = metadata.get("class_names")
    return ModelSource(path, config, recipe, checkpoint, metadata)


def open_source(path, *, checkpoint="last", fields=None):
    """The `ModelSource` of `path`: a preset when it holds a preset's ``metadata.json``,
    else a run directory (`run_dir.read_config` with `fields`)."""
    path = str(path)
    if presets.is_preset(path):
        return _preset_source(path, checkpoint)
    config, recipe = read_config(path, fields=fields)
    return ModelSource(path, config, recipe, checkpoint)
