"""A training run: a recipe, its data and model, and a run directory.

`train` is the run-directory wrapper around `fit.fit_model` (which trains a
compiled model and touches nothing else): it builds the configuration,
decides what to do with the run directory, seeds the process, asks the
recipe (`recipes.Recipe`) for data, datasets, model and callbacks, trains,
and writes the results. `evaluate` tests a finished or unfinished run.

Run directory (default ``./runs/<model>-<YYYYmmdd-HHMMSS>``)::

    config.json           the run's configuration (model, recipe, hyper-parameters)
    status.json           "running" | "finished" | "diverged", the phase ("training" with
                          the epochs and updates done, "evaluating", "exporting",
                          "done"), test metrics, and the marker "keras_zoo_run": 1
    checkpoints/          last.keras, best.keras, state.json
    backup/               the training state of the last two epochs while training lasts
                          (`callbacks.BackupAndRestore`)
    log.csv               one row per epoch (keras.callbacks.CSVLogger)
    lr.csv                one row per update: step, learning rate, training error
                          (`callbacks.LearningRateLog`; e.g. ResNet-110's warm-up)
    tensorboard/          TensorBoard event files
    saved_model/1/        SavedModel of the final model (TF Serving layout)

The process holds an exclusive lock on the directory (``.keras-zoo.lock``,
`directory_lock`) from before it reads it until it ends: a second ``train`` with the
same `out` is refused with one line naming the holder and writes nothing.

A run resumes in the phase it was in: training continues exactly from the backup of its
last finished epoch (the same batches, random draws, optimizer and callback states as an
uninterrupted run, `fit.fit_model`; the logs of later epochs dropped, `run_logs`); once
training has finished, the last checkpoint is the final model and only the phases left
run (pictures and evaluation, then export), never a new training.

An existing directory is resumed when it holds an unfinished keras-zoo run
of the same configuration (with or without ``overwrite``: the same command
continues after a crash or Ctrl-C), replaced with ``overwrite=True`` only
when keras-zoo wrote it (the old run is deleted once the new one has its
first checkpoint), and refused otherwise; see `run_dir`. JSON files and
checkpoints are written to a temporary name, flushed and renamed.

With ``strategy="multiworker"`` give `out` explicitly, the same on every
restart (so the same command resumes); only the chief (worker 0) reads and
writes it, and all workers resume from the chief's backup.
"""

import dataclasses
import os
import shutil
import sys

import keras
import tensorflow as tf

import keras_zoo.models  # noqa: F401  (registers the layers and models for load_model)
from keras_zoo import fault_points
from keras_zoo.train import callbacks as zoo_callbacks
from keras_zoo.train import (
    datasets,
    fit,
    model_source,
    multiworker,
    recipes,
    registry,
    run_logs,
    strategies,
)
from keras_zoo.train.directory_lock import unlock_directory
from keras_zoo.train.recipes import common
from keras_zoo.train.run_dir import (
    RunDirectory,
    claim_run_dir,
    default_run_dir,
    load_model,
)

QUICKSTART = ("resnet20", "quickstart")
# A run's phases, in order, as status.json records them (see the module docstring).
PHASES = ("training", "evaluating", "exporting", "done")
_ACTIONS = ("new", "resume", "overwrite")


class TrainingDiverged(RuntimeError):
    """The loss or the weights became NaN/Inf; the last good checkpoint was kept."""


@dataclasses.dataclass
class RunResult:
    run_dir: str
    config: dict
    test: dict  # the metrics of the final evaluation, on `split`
    initial_epoch: int
    epochs: int
    split: str = "test"
    report: list = dataclasses.field(default_factory=list)  # what the CLI prints of `test`
    chief: bool = True  # False: another worker of a multi-worker run (it writes no run files)


# The command-line flags of the configuration keys that have one (else ``--set KEY=VALUE``).
OVERRIDE_FLAGS = {"data_files": "--train-annotations/--val-annotations/--test-annotations",
                  "init": "--init", "crops": "--crops"}


def recipe_names():
    """The ``--recipe`` names."""
    return recipes.names()


def _override(config, recipe, key, value):
    """``config[key] = value`` for a key of the recipe's configuration, of its type."""
    flag = OVERRIDE_FLAGS.get(key, f"--set {key}=...")
    if key not in config:
        raise ValueError(f"Expected {flag} only for a recipe with the setting {key!r}; recipe "
                         f"{recipe.name!r} has {', '.join(sorted(config))}. Received: {key!r}")
    old = config[key]
    numbers = (int, float)
    if old is not None and value is not None and type(old) is not type(value) and not (
            isinstance(old, numbers) and isinstance(value, numbers)
            and not isinstance(old, bool) and not isinstance(value, bool)):
        raise ValueError(f"Expected {flag} to be a {type(old).__name__} like the recipe's "
                         f"{old!r}. Received: {value!r}")
    config[key] = value


def make_config(model=None, *, recipe=None, dataset=None, data_dir=None, epochs=None,
                batch_size=None, seed=0, validation_split=None, mixed_precision=False,
                tiny=False, sync_bn=False, overrides=None):
    """The run's configuration: the recipe's defaults, then the given overrides
    (`sync_bn`: synchronised batch normalisation across replicas, ``norm_layer="sync"``;
    `overrides`: ``{key: value}`` replacing keys of the recipe's configuration, e.g.
    ``{"use_roi_align": False}``, of the same type).

    Returns ``(entry, recipe, config)`` (a `registry.ModelEntry`, a
    `recipes.Recipe`, a dict). With `model` None, the quick-start: ResNet-20
    with the "quickstart" recipe.
    """
    if model is None:
        model, recipe = QUICKSTART[0], recipe or QUICKSTART[1]
    entry = registry.get(model)
    chosen = recipes.get(recipe if recipe else entry.recipe)
    config = chosen.get_config(model, tiny=tiny)
    config["dataset"] = dataset or (entry.dataset if recipe is None else config["dataset"])
    if dataset is None and chosen.user_data_dataset and (
            data_dir or (overrides or {}).get("data_files")):
        config["dataset"] = chosen.user_data_dataset  # your files say which data you mean
    if config["dataset"] is None:
        raise ValueError(f"Expected --dataset for {model} (it has no default dataset): one "
                         f"of {', '.join(datasets.IMAGE_NAMES)}. Received: dataset=None")
    for key, value in (overrides or {}).items():
        _override(config, chosen, key, value)
    for key, value in (("epochs", epochs), ("batch_size", batch_size),
                       ("validation_split", validation_split)):
        if value is not None:
            config[key] = value
    if sync_bn:
        if "norm_layer" not in config:
            raise ValueError(f"Expected a recipe whose model has batch normalisation for "
                             f"--sync-bn. Received: recipe={chosen.name!r}")
        config["norm_layer"] = "sync"
    for key in ("epochs", "batch_size"):
        if config[key] is not None and (isinstance(config[key], bool) or config[key] < 1):
            raise ValueError(f"Expected {key} >= 1. Received: {key}={config[key]!r}")
    config.update(model=model, seed=int(seed), mixed_precision=bool(mixed_precision),
                  data_dir=None if data_dir is None else os.path.abspath(data_dir))
    return entry, chosen, config


def _verbose(verbose):
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return verbose


def _resume_epoch(run, inputs, distribution, n_epochs):
    """The epochs a resumed run has done: all `n_epochs` once its training phase ended
    (``status.json``'s phase), else its backup's (0 without one)."""
    if run.read_status().get("phase") in PHASES[1:]:
        return n_epochs
    if multiworker.is_multiworker(distribution):
        per_epoch = inputs.distributed_updates_per_epoch()
        return multiworker.backup_step(run.join("backup")) // per_epoch
    return zoo_callbacks.BackupAndRestore(run.join("backup")).epoch()


def _start(run, out, config, action, done, n_epochs, log, *, strategy, jit_compile,
           steps_per_epoch):
    """Writes the run's status and configuration (`RunDirectory.create`) in the phase a
    resumed run continues; drops the logs of the epochs it trains again."""
    previous = run.read_status() if action == "resume" else {}
    phase = "training"
    if done >= n_epochs:
        phase = "exporting" if previous.get("phase") == "exporting" else "evaluating"
    kept = {key: previous[key] for key in ("test", "test_split")
            if phase == "exporting" and key in previous}
    run.create(config, action, {"state": "running", "phase": phase, "epoch": done,
                                "epochs": n_epochs, "strategy": strategy,
                                "jit_compile": jit_compile, **kept})
    if action != "resume":
        return
    if phase == "training":
        run_logs.drop_epochs_from(run, done, done * steps_per_epoch)
        log(f"Resuming {out} at epoch {done + 1} of {n_epochs}")
    else:
        log(f"Resuming {out}: its {n_epochs} epochs are trained; {phase} again")


class _TrainingPhase(keras.callbacks.Callback):
    """Records the epochs and updates done in ``status.json`` at each epoch end, after the
    run's files of the epoch (log row, checkpoint) and before its backup."""

    def __init__(self, run):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        self.run.update_status(phase="training", epoch=epoch + 1, step=int(
            keras.ops.convert_to_numpy(self.model.optimizer.iterations)))
        fault_points.reached(f"epoch-end:{epoch + 1}")


def _train_phase(run, entry, chosen, config, data, inputs, distribution, n_epochs,
                 steps_per_epoch, *, chief, jit_compile, callbacks, verbose):
    """Builds, compiles and trains the model from the run's backup (if any) to `n_epochs`;
    the chief writes the run's files and, at the end, the next phase."""
    with strategies.dtype_policy(strategies.precision_policy(config["mixed_precision"])):
        with distribution.scope():
            net = chosen.build_model(entry.builder, data, config)
            chosen.compile_model(net, config, steps_per_epoch=steps_per_epoch,
                                 jit_compile="auto" if jit_compile is None else jit_compile)
        has_val = inputs.validation is not None
        nan_guard = zoo_callbacks.TerminateOnNaN()
        checkpoint = zoo_callbacks.Checkpoint(run.join("checkpoints"),
                                              monitor="val_loss" if has_val else "loss")
        run_files = [checkpoint, _DiscardReplaced(run, checkpoint),
                     keras.callbacks.CSVLogger(run.join("log.csv"), append=True),
                     keras.callbacks.TensorBoard(run.join("tensorboard"))]
        extra = [c for c in chosen.callbacks(config, has_validation=has_val, data=data)
                 if chief or not getattr(c, "chief_only", False)]
        # The learning-rate log reads the rate after the recipe's callbacks have set it.
        lr_log = [zoo_callbacks.LearningRateLog(run.join("lr.csv"))] if chief else []
        phase = [_TrainingPhase(run)] if chief else []
        fit.fit_model(net, inputs, epochs=n_epochs, backup_dir=run.join("backup"),
                      keep_backup=True,
                      callbacks=[nan_guard, *extra, *(run_files if chief else ()), *lr_log,
                                 *callbacks, *phase],
                      verbose=_verbose(verbose))
    if nan_guard.nan_at is not None:
        _diverged(run, nan_guard, checkpoint if chief else None)
    if chief:
        run.update_status(phase="evaluating")
        fault_points.reached("training-done")


def _final_phases(run, chosen, config, data, split):
    """Pictures, evaluation and export of the final checkpoint (`last.keras`), each phase
    recorded in ``status.json`` before it starts, so a rerun does only what is left.
    Tested and exported outside the strategy: what `keras-zoo evaluate` and the
    SavedModel see (with per-replica BN under "mirrored", each replica holds its own
    moving statistics; the checkpoint holds their mean). Returns the test metrics."""
    final = load_model(run.join("checkpoints", "last.keras"))
    if run.status["phase"] == "exporting":
        test = run.status["test"]
    else:
        chosen.write_artifacts(final, data, config, run.path)
        fault_points.reached("evaluating")
        test = chosen.evaluate(final, data, config, split=split, out=run.path)
        run.update_status(phase="exporting", test=test, test_split=split)
    fault_points.reached("exporting")
    if chosen.export_after_training:
        _export(chosen.artifacts(final), run.join("saved_model"))
    run.update_status(state="finished", phase="done")
    return test


def _decide(out, config, overwrite, distribution, epoch_of):
    """`claim_run_dir`'s action (under this process's lock of `out`) and the epoch to
    resume at. Under multi-worker training only the chief locks and looks at `out` (the
    others write no run files); its answer (or its refusal) reaches every worker."""
    if not multiworker.is_multiworker(distribution):
        action = claim_run_dir(out, config, overwrite=overwrite)
        return action, epoch_of() if action == "resume" else 0
    error, code, epoch = None, 0, 0
    if multiworker.is_chief(distribution):
        try:
            action = claim_run_dir(out, config, overwrite=overwrite)
            code, epoch = _ACTIONS.index(action), epoch_of() if action == "resume" else 0
        except ValueError as refused:
            error, code = refused, -1
    code, epoch = (int(v) for v in multiworker.broadcast_from_chief(
        distribution, [tf.constant(code, tf.int64), tf.constant(epoch, tf.int64)]))
    if error is not None:
        raise error
    if code < 0:
        raise ValueError("Expected the chief (worker 0) to accept --out. Received: it refused "
                         "it (its error message says why)")
    return _ACTIONS[code], epoch


class _DiscardReplaced(keras.callbacks.Callback):
    """Deletes the run an overwrite moved aside once this run's first checkpoint exists."""

    def __init__(self, run, checkpoint):
        super().__init__()
        self.run, self.checkpoint = run, checkpoint

    def on_epoch_end(self, epoch, logs=None):
        if self.run.replaced is not None and os.path.exists(self.checkpoint.last_path):
            self.run.discard_replaced()


def train(model=None, *, recipe=None, dataset=None, data_dir=None, out=None, overwrite=False,
          epochs=None, batch_size=None, seed=0, validation_split=None, strategy="default",
          mixed_precision=False, jit_compile=None, tiny=False, sync_bn=False, overrides=None,
          callbacks=(), verbose="auto", log=print, worker_timeout=multiworker.WORKER_TIMEOUT):
    """Trains `model` (a `registry.MODELS` name; None is the quick-start) and
    returns a `RunResult`. See the module docstring for the run directory.

    Sets the process's global seeds (`keras.utils.set_random_seed(seed)`);
    to train many models in one process without that, use `fit.fit_model`.

    With ``strategy="multiworker"`` every worker first waits up to `worker_timeout`
    seconds for the others and checks that they run the same configuration
    (`cluster.multiworker_strategy`); the recipe's callbacks marked ``chief_only`` (COCO
    evaluation), the final evaluation and the exports run on the chief only, which the
    others wait for before they return (their result has no test metrics).

    Raises:
        ValueError / FileNotFoundError: bad names, data, sizes or `out` (nothing
            is written then).
        TrainingDiverged: the loss became NaN/Inf (last good checkpoint kept).
        OSError: `out` cannot be written (no file is left half-written).
        KeyboardInterrupt: the run stays resumable with the same call.
    """
    entry, chosen, config = make_config(
        model, recipe=recipe, dataset=dataset, data_dir=data_dir, epochs=epochs,
        batch_size=batch_size, seed=seed, validation_split=validation_split,
        mixed_precision=mixed_precision, tiny=tiny, sync_bn=sync_bn, overrides=overrides)
    if strategy == "multiworker" and out is None:
        raise ValueError("Expected --out for --strategy multiworker: the same directory on "
                         "every restart, so that the same command resumes. Received: out=None")
    out = out or default_run_dir(config["model"])
    run = RunDirectory(out)
    if strategy == "multiworker":  # created first: TensorFlow starts its server in it
        distribution = multiworker.multiworker_strategy(config=_shared(config),
                                                        timeout=worker_timeout)
    else:
        distribution = strategies.get_strategy(strategy)
    chief = multiworker.is_chief(distribution)
    data = chosen.load_data(config)
    config.update(chosen.config_from_data(data))
    keras.utils.set_random_seed(config["seed"])
    inputs = chosen.make_datasets(data, config)
    try:
        fit.check_inputs(inputs, distribution)
    except ValueError:
        raise ValueError(f"Expected a recipe whose input pipelines can be sharded for "
                         f"--strategy multiworker. Received: recipe={config['recipe']!r}") from None
    multi = multiworker.is_multiworker(distribution)
    steps_per_epoch = (inputs.distributed_updates_per_epoch() if multi
                       else inputs.updates_per_epoch())
    n_epochs = config["epochs"] or common.epochs_for(config["steps"], steps_per_epoch)
    try:
        action, initial_epoch = _decide(
            out, config, overwrite, distribution,
            lambda: _resume_epoch(run, inputs, distribution, n_epochs))
        trained = initial_epoch >= n_epochs  # a rerun after the training phase ended
        if chief:
            _start(run, out, config, action, initial_epoch, n_epochs, log,
                   strategy=strategy, jit_compile=jit_compile, steps_per_epoch=steps_per_epoch)
        if not trained:
            _train_phase(run, entry, chosen, config, data, inputs, distribution, n_epochs,
                         steps_per_epoch, chief=chief, jit_compile=jit_compile,
                         callbacks=callbacks, verbose=verbose)
        if chief:
            shutil.rmtree(run.join("backup"), ignore_errors=True)
        split = chosen.evaluated_split(data)
        if not chief:  # the chief evaluates and exports; the others wait until it has finished
            multiworker.barrier(distribution)
            return RunResult(run_dir=out, config=config, test={}, initial_epoch=initial_epoch,
                             epochs=n_epochs, split=split, chief=False,
                             report=[f"{split}: evaluated by the chief (worker 0)"])
        test = _final_phases(run, chosen, config, data, split)
        if multi:
            multiworker.barrier(distribution)
        return RunResult(run_dir=out, config=config, test=test, initial_epoch=initial_epoch,
                         epochs=n_epochs, split=split, report=chosen.report(test, split))
    finally:
        unlock_directory(out)  # held for the life of the run


def _shared(config):
    """The settings every worker of a multi-worker run must agree on: the configuration
    without the paths of the data and initial weights (hosts may mount them elsewhere)."""
    shared = {key: value for key, value in config.items()
              if key not in ("data_dir", "data_files")}
    if shared.get("init"):
        shared["init"] = shared["init"][0]  # the format, not the path
    return shared


def _diverged(run, nan_guard, checkpoint):
    epoch, batch = nan_guard.nan_at
    where = f"epoch {epoch + 1}" + ("" if batch is None else f", batch {batch + 1}")
    if checkpoint is None:  # a multi-worker run's other workers
        kept = "the chief (worker 0) kept the last good checkpoint"
    else:
        last = checkpoint.state["last_epoch"]
        kept = (f"kept the last good checkpoint {checkpoint.last_path} (epoch {last})"
                if last else "no epoch finished, so no checkpoint was written")
        run.update_status(state="diverged", nan_at=where)
    raise TrainingDiverged(f"Training diverged: the loss or weights became NaN/Inf at "
                           f"{where}; {kept}. Try a lower learning rate.")


def _export(artifacts, base):
    from keras_zoo.export import to_saved_model

    for artifact in artifacts:
        directory = base if artifact.name is None else os.path.join(base, artifact.name)
        to_saved_model(artifact.model, directory, version=1, overwrite=True,
                       **artifact.saved_model_kwargs)


def evaluation(run_dir, *, checkpoint="last", data_dir=None, split=None, overrides=None,
               precision="float32"):
    """Evaluates the `checkpoint` ("last" or "best") of `run_dir` on `split` as its recipe
    does (`Recipe.evaluated_split`: by default "test", or a detection dataset's val split
    when it has no test split); `data_dir`: the dataset's files, if they moved; `overrides`:
    ``{key: value}`` replacing settings of the run's configuration for this evaluation
    (e.g. ``{"crops": "10"}``). A recipe may write its result files into `run_dir` (Mask
    R-CNN: ``evaluation/<split>/``). `run_dir` may be a preset (`model_source`; give
    `data_dir`; nothing is written into it); `precision` as ``keras-zoo evaluate
    --precision`` (`keras_zoo.train.precision`).

    Returns:
        ``(split, metrics dict, report lines)``: the lines are what ``keras-zoo evaluate``
        prints (`Recipe.report`).
    """
    source = model_source.open_source(run_dir, checkpoint=checkpoint)
    chosen = source.require_recipe("evaluate")
    model = source.load(precision)
    config = {**source.config, "data_dir": data_dir or source.config["data_dir"]}
    for key, value in (overrides or {}).items():
        _override(config, chosen, key, value)
    data = chosen.load_data(config)
    split = chosen.evaluated_split(data, split)
    with source.running():
        metrics = chosen.evaluate(model, data, config, split=split,
                                  out=None if source.is_preset else os.path.abspath(run_dir))
    return split, metrics, chosen.report(metrics, split)


def evaluate(run_dir, *, checkpoint="last", data_dir=None, split=None):
    """The metrics (a dict) of `evaluation`."""
    return evaluation(run_dir, checkpoint=checkpoint, data_dir=data_dir, split=split)[1]
