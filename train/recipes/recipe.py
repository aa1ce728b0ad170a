"""`Recipe`: the hooks a training recipe provides, with the defaults most recipes share."""

import abc
import functools

from keras_zoo.train import datasets

from . import common
from .artifact import Artifact


class Recipe(abc.ABC):
    """A paper's training recipe, as `run.train`, `run.evaluate` and ``keras-zoo
    export`` use it. One subclass per recipe module (``recipes/<name>.py``).

    Subclasses set three class attributes and override the hooks that differ
    from the defaults; the defaults are those of the image-classification
    recipes (an `ImageDataset` in memory, `model.evaluate` on its test split,
    one exported model).

    Class attributes:
        name: the ``--recipe`` name (the module's name).
        defaults: the paper's hyper-parameters, JSON-serialisable; with
            ``batch_size`` and ``epochs`` (or ``epochs`` None and ``steps``: the
            number of updates, turned into epochs once `Inputs.updates_per_epoch`
            is known) and ``dataset``.
        tiny: the overrides of ``tiny=True``, a CPU smoke run.
        export_after_training: `run.train` writes the `artifacts` as SavedModels.
        batch_norm: the recipe's models have batch normalisation: the configuration
            holds ``norm_layer`` ("batch", or "sync" with ``keras-zoo train
            --sync-bn``), which the default `build_model` passes to the builder.
        user_data_dataset: the ``--dataset`` that ``--data-dir`` or annotation files
            imply when no ``--dataset`` is given (None: they imply nothing).

    Hooks, in the order `run.train` calls them:
        `get_config`, `load_data`, `config_from_data`, `make_datasets`,
        `build_model`, `compile_model`, `callbacks`, then after training
        `write_artifacts`, `evaluated_split`, `evaluate`, `artifacts`; ``keras-zoo
        evaluate`` calls `load_data`, `evaluated_split`, `evaluate` and `report`;
        ``keras-zoo export`` calls `artifacts` and, for int8 TFLite,
        `calibration_images`.

    A recipe reads no run directory and sets no global seed: `run.train` does
    (see `keras_zoo.train.fit.fit_model` for the training loop itself).
    """

    name: str
    defaults: dict
    tiny: dict = {}
    export_after_training = True
    batch_norm = True
    user_data_dataset = None

    def get_config(self, model_name=None, *, tiny=False):
        """The run's hyper-parameters: ``recipe``, ``steps`` None, ``validation_split`` 0,
        then `defaults`, `tiny` (with ``tiny=True``) and `model_config`."""
        config = {"recipe": self.name, "steps": None, "validation_split": 0, **self.defaults}
        if self.batch_norm:
            config.setdefault("norm_layer", "batch")
        if tiny:
            config.update(self.tiny)
        config.update(self.model_config(model_name, tiny=tiny))
        return config

    def model_config(self, model_name, *, tiny):
        """Values that depend on the model (e.g. a warm-up for the deepest nets)."""
        return {}

    def load_data(self, config):
        """The run's data: `datasets.load` of ``config["dataset"]`` (an `ImageDataset`)."""
        return datasets.load(config["dataset"], config["data_dir"],
                             validation_split=config["validation_split"], seed=config["seed"])

    def config_from_data(self, data):
        """Configuration values that come from the data (a detection dataset's category
        map), recorded in the run's config.json: a dict (default: none)."""
        return {}

    def make_datasets(self, data, config):
        """`datasets.Inputs` of `data`: seeded pipelines over its arrays."""
        validation = None if data.x_val is None else (data.x_val, data.y_val)
        return datasets.Inputs.from_arrays(
            data.x_train, data.y_train, batch_size=config["batch_size"], seed=config["seed"],
            augmentation=data.augmentation, validation=validation,
            test=(data.x_test, data.y_test))

    def build_model(self, builder, data, config):
        """The model for `data` from the registry's `builder` (given
        ``norm_layer=config["norm_layer"]``): a classifier whose "normalization" layer is
        adapted to the training images."""
        return common.build_classifier(
            functools.partial(builder, norm_layer=config["norm_layer"]), data)

    @abc.abstractmethod
    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        """`model.compile(...)` with the recipe's optimizer, loss and metrics."""

    def callbacks(self, config, *, has_validation, data=None):
        """Extra Keras callbacks of the recipe (e.g. a schedule driven by a metric, or one
        that evaluates on `data`). They run before the run's checkpoint, CSV and TensorBoard
        callbacks, so metrics they add to an epoch's logs are recorded."""
        return []

    def write_artifacts(self, model, data, config, out):
        """Extra files of a run in its directory `out` (e.g. pictures); returns their paths."""
        return []

    def evaluated_split(self, data, split=None):
        """The split `evaluate` tests: `split` ("test" or "val"), by default "test"."""
        split = split or "test"
        if split not in ("test", "val"):
            raise ValueError(f"Expected split 'test' or 'val'. Received: split={split!r}")
        if split == "val" and data.x_val is None:
            raise ValueError("Expected a run with a validation split for --split val (train "
                             "with --validation-split). Received: a run without one")
        return split

    def evaluate(self, model, data, config, *, split=None, out=None):
        """Metrics (a dict of floats) of `model` on `split` (`evaluated_split`):
        `model.evaluate` on its pipeline. `out`: the run directory, where a recipe may
        write result files (this one writes none)."""
        split = self.evaluated_split(data, split)
        inputs = self.make_datasets(data, config)
        dataset = inputs.test if split == "test" else inputs.validation
        _check_input_shape(model, dataset, config)
        return {k: float(v) for k, v in
                model.evaluate(dataset, verbose=0, return_dict=True).items()}

    def report(self, metrics, split):
        """The lines the CLI prints for `metrics` of `split`: ``<split> <name>: <value>``."""
        return [f"{split} {name}: {value:.4f}" for name, value in metrics.items()]

    def artifacts(self, model):
        """What the run exports: a list of `Artifact` (default: `model` itself)."""
        return [Artifact(None, model)]

    def calibration_images(self, data):
        """Raw images that calibrate an int8 TFLite export (default: the training images)."""
        return data.x_train


def _check_input_shape(model, dataset, config):
    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, tuple) else spec
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or not hasattr(spec, "shape"):
        return  # several inputs: Keras checks each itself
    expected, received = tuple(inputs[0].shape[1:]), tuple(spec.shape[1:])
    if len(expected) != len(received) or any(
            e is not None and r is not None and e != r for e, r in zip(expected, received)):
        raise ValueError(f"Expected test inputs of shape {expected}. Received: {received} from "
                         f"dataset {config['dataset']!r}")
