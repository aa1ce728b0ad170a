"""A training run: data, model, recipe, callbacks and a run directory.

Run directory (default ``./runs/<model>-<YYYYmmdd-HHMMSS>``)::

    config.json           the run's configuration (model, recipe, hyper-parameters)
    status.json           "running" | "finished" | "diverged", epochs, test metrics
    checkpoints/          last.keras, best.keras, state.json
    backup/               BackupAndRestore state while the run is unfinished
    log.csv               one row per epoch (keras.callbacks.CSVLogger)
    tensorboard/          TensorBoard event files
    saved_model/1/        SavedModel of the final model (TF Serving layout)

An existing directory is resumed when it holds an unfinished run of the same
configuration, replaced only with ``overwrite=True``, and refused otherwise.
JSON files and checkpoints are written to a temporary name and renamed.
"""

import dataclasses
import importlib
import json
import os
import pkgutil
import shutil
import sys
import time

import keras
from keras_zoo.train import callbacks as zoo_callbacks
from keras_zoo.train import datasets, optimizers, recipes, registry, schedules, strategies  # noqa: F401  (registered for load_model)
from keras_zoo.train.callbacks import write_json_atomic

import keras_zoo.models  # noqa: F401  (registers the layers and models for load_model)

QUICKSTART = ("resnet20", "quickstart")
# Keys of config.json that may differ when resuming (a moved dataset is the same run).
_RESUME_IGNORES = ("data_dir",)


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN/Inf; the last good checkpoint was kept."""


@dataclasses.dataclass
class RunResult:
    run_dir: str
    config: dict
    test: dict
    initial_epoch: int
    epochs: int


def recipe_names():
    return sorted(m.name for m in pkgutil.iter_modules(recipes.__path__) if m.name != "common")


def get_recipe(name):
    if name not in recipe_names():
        raise ValueError(f"Expected a recipe in {', '.join(recipe_names())}. "
                         f"Received: recipe={name!r}")
    return importlib.import_module(f"{recipes.__name__}.{name}")


def make_config(model=None, *, recipe=None, dataset=None, data_dir=None, epochs=None,
                batch_size=None, seed=0, validation_split=None, mixed_precision=False,
                tiny=False):
    """The run's configuration: the recipe's defaults, then the given overrides.

    Returns ``(entry, recipe_module, config)``. With `model` None, the
    quick-start: ResNet-20 with the "quickstart" recipe.
    """
    if model is None:
        model, recipe = QUICKSTART[0], recipe or QUICKSTART[1]
    entry = registry.get(model)
    module = get_recipe(recipe) if recipe else entry.recipe
    config = module.get_config(model, tiny=tiny)
    config["dataset"] = dataset or (entry.dataset if recipe is None else config["dataset"])
    if config["dataset"] is None:
        raise ValueError(f"Expected --dataset for {model} (it has no default dataset): one "
                         f"of {', '.join(datasets.NAMES)}. Received: dataset=None")
    for key, value in (("epochs", epochs), ("batch_size", batch_size),
                       ("validation_split", validation_split)):
        if value is not None:
            config[key] = value
    for key in ("epochs", "batch_size"):
        if config[key] is not None and (isinstance(config[key], bool) or config[key] < 1):
            raise ValueError(f"Expected {key} >= 1. Received: {key}={config[key]!r}")
    config.update(model=model, seed=int(seed), mixed_precision=bool(mixed_precision),
                  data_dir=None if data_dir is None else os.path.abspath(data_dir))
    return entry, module, config


def default_run_dir(model, root="runs"):
    """``<root>/<model>-<YYYYmmdd-HHMMSS>``, with a ``-N`` suffix if taken."""
    base = os.path.join(root, f"{model}-{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = base, 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_run_dir(out, config, *, overwrite=False):
    """Decides what to do with `out`: returns "new", "resume" or "overwrite".

    Raises ValueError when `out` holds a finished run, a run of another
    configuration (without `overwrite`), or files that are not a run.
    """
    if not os.path.exists(out):
        return "new"
    if not os.path.isdir(out):
        raise ValueError(f"Expected --out to be a directory. Received: out={out!r} is a file")
    if not os.listdir(out):
        return "new"
    config_path = os.path.join(out, "config.json")
    if not os.path.exists(config_path):
        raise ValueError(f"Expected --out to be a new directory or a keras-zoo run. Received: "
                         f"out={out!r} holds other files (no config.json); choose another --out")
    if overwrite:
        return "overwrite"
    old = _read_json(config_path)
    state = _read_json(os.path.join(out, "status.json")).get("state") if os.path.exists(
        os.path.join(out, "status.json")) else "running"
    diff = sorted(k for k in set(old) | set(config)
                  if k not in _RESUME_IGNORES and old.get(k) != config.get(k))
    if diff:
        changes = ", ".join(f"{k}: {old.get(k)!r} -> {config.get(k)!r}" for k in diff)
        raise ValueError(f"Expected --out to be a new directory or an unfinished run of the same "
                         f"configuration. Received: out={out!r} holds a run with other settings "
                         f"({changes}); use --overwrite to replace it")
    if state != "running":
        raise ValueError(f"Expected --out to be a new directory or an unfinished run. Received: "
                         f"out={out!r} holds a {state} run; use --overwrite to replace it")
    return "resume"


def _verbose(verbose):
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return verbose


def _backup_epoch(backup_dir):
    path = os.path.join(backup_dir, "training_metadata.json")
    return _read_json(path)["epoch"] if os.path.exists(path) else 0


def train(model=None, *, recipe=None, dataset=None, data_dir=None, out=None, overwrite=False,
          epochs=None, batch_size=None, seed=0, validation_split=None, strategy="default",
          mixed_precision=False, jit_compile=None, tiny=False, callbacks=(), verbose="auto",
          log=print):
    """Trains `model` (a `registry.MODELS` name; None is the quick-start) and
    returns a `RunResult`. See the module docstring for the run directory.

    Raises:
        ValueError / FileNotFoundError: bad names, data, sizes or `out`.
        TrainingDiverged: the loss became NaN/Inf (last good checkpoint kept).
    """
    entry, module, config = make_config(
        model, recipe=recipe, dataset=dataset, data_dir=data_dir, epochs=epochs,
        batch_size=batch_size, seed=seed, validation_split=validation_split,
        mixed_precision=mixed_precision, tiny=tiny)
    out = out or default_run_dir(config["model"])
    action = check_run_dir(out, config, overwrite=overwrite)
    distribution = strategies.get_strategy(strategy)
    data = datasets.load(config["dataset"], config["data_dir"],
                         validation_split=config["validation_split"], seed=config["seed"])
    steps_per_epoch = recipes.common.steps_per_epoch(len(data.x_train), config["batch_size"])
    n_epochs = config["epochs"] or recipes.common.epochs_for(
        config["steps"], len(data.x_train), config["batch_size"])

    if action == "overwrite":
        shutil.rmtree(out)
    os.makedirs(out, exist_ok=True)
    write_json_atomic(config, os.path.join(out, "config.json"))
    initial_epoch = _backup_epoch(os.path.join(out, "backup"))
    if action == "resume":
        log(f"Resuming {out} at epoch {initial_epoch + 1} of {n_epochs}")
    status = {"state": "running", "epochs": n_epochs, "strategy": strategy,
              "jit_compile": jit_compile}
    write_json_atomic(status, os.path.join(out, "status.json"))

    keras.utils.set_random_seed(config["seed"])
    with strategies.dtype_policy(strategies.precision_policy(config["mixed_precision"])):
        with distribution.scope():
            net = module.build_model(entry.builder, data, config)
            module.compile_model(net, config, steps_per_epoch=steps_per_epoch,
                                 jit_compile="auto" if jit_compile is None else jit_compile)
        has_val = data.x_val is not None
        monitor = "val_loss" if has_val else "loss"
        nan_guard = zoo_callbacks.TerminateOnNaN()
        checkpoint = zoo_callbacks.Checkpoint(os.path.join(out, "checkpoints"), monitor=monitor)
        fit_callbacks = [
            nan_guard,
            zoo_callbacks.BackupAndRestore(os.path.join(out, "backup")),
            checkpoint,
            keras.callbacks.CSVLogger(os.path.join(out, "log.csv"), append=True),
            keras.callbacks.TensorBoard(os.path.join(out, "tensorboard")),
            *module.callbacks(config, has_validation=has_val),
            *callbacks,
        ]
        pipeline = dict(batch_size=config["batch_size"], seed=config["seed"])
        if hasattr(module, "make_datasets"):  # a recipe with its own inputs (concrete_vae)
            train_ds, val_ds, test_ds = module.make_datasets(data, config)
        else:
            train_ds = datasets.make_pipeline(data.x_train, data.y_train, training=True,
                                              augmentation=data.augmentation, **pipeline)
            val_ds = datasets.make_pipeline(data.x_val, data.y_val, training=False,
                                            augmentation="none", **pipeline) if has_val else None
            test_ds = None
        if strategy == "multiworker":  # Keras 3's fit fails under it (keras#20585)
            from keras_zoo.train import multiworker

            if hasattr(module, "make_datasets"):
                raise ValueError(f"Expected a classification recipe for --strategy multiworker. "
                                 f"Received: recipe={config['recipe']!r}")
            multiworker.fit_run(net, data, config, distribution, fit_callbacks, out,
                                epochs=n_epochs, verbose=_verbose(verbose))
        else:
            net.fit(train_ds, validation_data=val_ds, epochs=n_epochs, callbacks=fit_callbacks,
                    shuffle=False,  # the pipeline shuffles, seeded
                    verbose=_verbose(verbose))

        if nan_guard.nan_at is not None:
            epoch, batch = nan_guard.nan_at
            where = f"epoch {epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")
            last = checkpoint.state["last_epoch"]
            kept = (f"kept the last good checkpoint {checkpoint.last_path} (epoch {last})"
                    if last else "no epoch finished, so no checkpoint was written")
            write_json_atomic({**status, "state": "diverged", "nan_at": where},
                              os.path.join(out, "status.json"))
            raise TrainingDiverged(f"Training diverged: the loss or weights became NaN/Inf at "
                                   f"{where}; {kept}. Try a lower learning rate.")

        if hasattr(module, "write_artifacts"):  # e.g. the VAE's samples.png
            module.write_artifacts(net, data, config, out)
    # Test and export the saved final model, outside the strategy: what `keras-zoo evaluate`
    # and the SavedModel see (with per-replica BN under "mirrored", each replica holds its own
    # moving statistics; the checkpoint holds their mean).
    final = keras.saving.load_model(checkpoint.last_path)
    if test_ds is None:
        test_ds = datasets.make_pipeline(data.x_test, data.y_test, training=False,
                                         augmentation="none", **pipeline)
    test = {k: float(v) for k, v in final.evaluate(test_ds, verbose=0, return_dict=True).items()}
    if getattr(module, "SAVED_MODEL", True):
        _export(final, os.path.join(out, "saved_model"))
    write_json_atomic({**status, "state": "finished", "test": test},
                      os.path.join(out, "status.json"))
    return RunResult(run_dir=out, config=config, test=test, initial_epoch=initial_epoch,
                     epochs=n_epochs)


def _export(model, directory):
    from keras_zoo.export import to_saved_model

    to_saved_model(model, directory, version=1, overwrite=True)


def evaluate(run_dir, *, checkpoint="last", data_dir=None):
    """Test metrics (a dict) of the `checkpoint` ("last" or "best") of `run_dir`."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"Expected RUN_DIR to be a keras-zoo run directory holding "
                                f"config.json. Received: run_dir={run_dir!r}")
    if checkpoint not in ("last", "best"):
        raise ValueError(f"Expected checkpoint 'last' or 'best'. Received: {checkpoint!r}")
    path = os.path.join(run_dir, "checkpoints", f"{checkpoint}.keras")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected a checkpoint at {path} (written after the first "
                                f"epoch). Received: run_dir={run_dir!r} has none")
    config = _read_json(config_path)
    data = datasets.load(config["dataset"], data_dir or config["data_dir"],
                         validation_split=config["validation_split"], seed=config["seed"])
    model = keras.saving.load_model(path)
    module = get_recipe(config["recipe"])
    if hasattr(module, "make_datasets"):
        return {k: float(v) for k, v in model.evaluate(
            module.make_datasets(data, config)[2], verbose=0, return_dict=True).items()}
    expected = tuple(model.input_shape[1:])
    if any(e is not None and e != r for e, r in zip(expected, data.input_shape)) or len(
            expected) != len(data.input_shape):
        raise ValueError(f"Expected test images of shape {expected}. Received: "
                         f"{data.input_shape} from dataset {config['dataset']!r}")
    test_ds = datasets.make_pipeline(data.x_test, data.y_test, batch_size=config["batch_size"],
                                     training=False, augmentation="none")
    return {k: float(v) for k, v in model.evaluate(test_ds, verbose=0, return_dict=True).items()}
