"""Distributed training that works with Keras 3: one loop on `strategy.run` for every model.

Keras 3.15's `model.fit` still fails under `tf.distribute.MultiWorkerMirroredStrategy`
(keras-team/keras#20585): its symbolic build reduces a `PerReplica` batch eagerly
(`_maybe_symbolic_build`: "Attempt to convert a value (PerReplica ...) to a Tensor"),
and once that is bypassed its `reduce_per_replica` asks the strategy for a mean over
axis 0 of each scalar metric ("Invalid reduction dimension 0 for input with 0
dimensions"). `fit_distributed` trains with the model's own training behaviour
instead: ``strategy.run(model.train_step, ...)`` (Keras's compiled loss and metrics
for a classifier; `models.LossTermsModel`'s loss terms for Mask R-CNN, Faster R-CNN
and the Concrete VAE), the loss divided by the replicas in sync as Keras does, the
gradients all-reduced by the optimizer; the logs are the models' metrics read across
all replicas (sync-on-read variables: the global-batch means), and Keras callbacks
run on every worker (the progress bar on the chief).

Input streams: each input pipeline of `strategy.distribute_datasets_from_function`
reads only its replicas' batches (``examples.dataset(context, start_step)``; see
`datasets.Examples`, `datasets.coco_examples`, `datasets.image_pipeline.Shards`),
per-replica batch = global batch / replicas, from the step training starts at. With
`datasets.Examples` every global batch is the same on one process and on N workers,
so both end with the same weights (up to the all-reduce's summation order).

Fault tolerance: every `backup_every` steps the chief saves a `tf.train.Checkpoint`
(every variable of the model and the optimizer, and the step) in `backup_dir` (the
others save into a scratch folder outside it that they delete: saving is a collective).
After a restart the chief restores its latest backup and broadcasts the weights,
optimizer state and step to every worker (`cluster.broadcast_from_chief`), so all
workers resume at the same step whatever their file systems, and each input pipeline
starts at that step's batches: nothing is replayed or skipped.
"""

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_zoo.train.cluster import (  # noqa: F401  (the public names of multi-worker runs)
    WORKER_TIMEOUT,
    barrier,
    broadcast_from_chief,
    cluster_from_environment,
    is_chief,
    is_multiworker,
    multiworker_strategy,
    tf_config,
    worker_index,
)


class _Backup:
    """The chief saves to `directory` and restores from it; the others save into a
    scratch folder they delete (a checkpoint save is a collective)."""

    def __init__(self, directory, checkpoint, chief):
        self.checkpoint = checkpoint
        self.directory = directory
        self.chief = chief
        write_dir = directory if chief else tempfile.mkdtemp(prefix="keras-zoo-backup-")
        self.manager = tf.train.CheckpointManager(checkpoint, write_dir, max_to_keep=2)

    def restore(self):
        latest = tf.train.latest_checkpoint(self.directory) if self.chief else None
        if latest:
            self.checkpoint.restore(latest)
        return latest

    def save(self):
        self.manager.save()
        if not self.chief:
            shutil.rmtree(self.manager.directory, ignore_errors=True)

    def discard(self):
        """Deletes the backup once the run finished (the chief's folder)."""
        if self.chief:
            shutil.rmtree(self.directory, ignore_errors=True)


def backup_step(backup_dir):
    """The global step of the latest backup in `backup_dir`, or 0."""
    latest = tf.train.latest_checkpoint(backup_dir) if os.path.isdir(backup_dir) else None
    return int(tf.train.load_variable(latest, "step/.ATTRIBUTES/VARIABLE_VALUE")) if latest else 0


def _build(model, examples):
    """Creates every variable of the model, its compiled loss and metrics and its
    optimizer under the strategy's scope, before any step is traced (what Keras's `fit`
    does for a strategy), from the element spec of `examples`."""
    spec = examples.dataset(None).element_spec
    model._symbolic_build(data_batch=spec)  # Keras's own (private) build from a batch spec


def _metric_logs(model):
    """``{name: result}`` of the model's metrics; in cross-replica context, so each
    sync-on-read variable is summed over every replica of the cluster."""
    logs = {}
    for metric in model.metrics:
        result = metric.result()
        logs.update(result if isinstance(result, dict) else {metric.name: result})
    return logs


class _Steps:
    """The training and evaluation steps as `tf.function`s, traced again when the set of
    trainable variables changes (e.g. `callbacks.FineTuneStages` unfreezing the body)."""

    def __init__(self, model, strategy, step):
        self.model, self.strategy, self.step = model, strategy, step
        self.key, self.train, self.test = None, None, None
        self.float_states = [v for v in model.non_trainable_variables if keras.backend.
                             standardize_dtype(v.dtype).startswith(("float", "bfloat"))]

    def refresh(self):
        key = tuple(id(v) for v in self.model.trainable_variables)
        if key == self.key:
            return
        self.key = key
        model, strategy, step = self.model, self.strategy, self.step

        @tf.function
        def train(iterator):
            outputs = strategy.run(model.train_step, args=(next(iterator),))
            step.assign_add(1)
            # The names train_step reports (e.g. no evaluation-only metric), read globally.
            return {k: v for k, v in _metric_logs(model).items() if k in outputs}

        @tf.function(reduce_retracing=True)  # validation batches of several padded sizes
        def test(batch):
            strategy.run(model.test_step, args=(batch,))

        self.train, self.test = train, test

    def sync_states(self):
        """Averages the float non-trainable variables (BatchNorm moving statistics, which
        each replica updates on its own) so every worker saves the same model."""
        if not self.float_states:
            return
        states = self.float_states

        @tf.function
        def average():
            def fn():
                ctx = tf.distribute.get_replica_context()
                for v in states:
                    v.assign(ctx.all_reduce("MEAN", tf.identity(v.value)))

            self.strategy.run(fn)

        average()

    def evaluate(self, dataset):
        """``val_`` logs of `dataset` (batches): each worker runs `model.test_step` on its
        share of the batches (every N-th), then the metrics are summed over all replicas."""
        workers, index = worker_index(self.strategy)
        self.model.reset_metrics()
        for batch in dataset.shard(workers, index) if workers > 1 else dataset:
            self.test(batch)
        logs = tf.function(lambda: _metric_logs(self.model))()
        return {f"val_{k}": float(v) for k, v in logs.items()}


def fit_distributed(model, examples, *, strategy, epochs=1, steps_per_epoch=None,
                    backup_dir=None, keep_backup=False, backup_every=None,
                    checkpoint_path=None, callbacks=(), validation_data=None, verbose=1):
    """Trains a compiled `model` (built and compiled inside `strategy.scope()`).

    Args:
        model: a compiled `keras.Model`: a classifier with a loss and metrics from
            `compile`, or a `models.LossTermsModel`.
        examples: what the input pipelines read: `datasets.Examples` (arrays or a
            streaming `IndexedSource`; the same global batches on any cluster), or any
            object with ``batch_size`` (global) and ``dataset(context, start_step)``
            returning the per-replica batches of one input pipeline from a global step
            on (e.g. `datasets.coco_examples.CocoExamples`, `image_pipeline.Shards`).
        strategy: e.g. `multiworker_strategy()`; any `tf.distribute.Strategy` works.
        epochs: the index of the last epoch; a restored run continues where it stopped.
        steps_per_epoch: updates per epoch (default: one pass over `examples`).
        backup_dir: where the chief backs up (model, optimizer, step) and restores
            from after a restart (then broadcast to every worker); None: no backup.
            Deleted by the chief when training ends, unless `keep_backup` (the caller
            deletes it once it has recorded that training finished).
        backup_every: steps between backups (default: once per epoch).
        checkpoint_path: a `.keras` file the chief writes at the end of each epoch.
        callbacks: Keras callbacks; they run on every worker, the progress bar on the chief.
        validation_data: a `tf.data.Dataset` of batches, the same on every worker, evaluated
            at each epoch end (each worker its share), logged as ``val_loss``, ``val_<metric>``.

    Returns:
        dict of per-epoch logs (loss and metrics), as `keras.callbacks.History.history`.
    """
    chief = is_chief(strategy)
    steps_per_epoch = int(steps_per_epoch or examples.steps_per_pass())
    backup_every = backup_every or steps_per_epoch
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        _build(model, examples)
    backup = None
    if backup_dir is not None:
        # Every variable by its place in the model's and the optimizer's lists: TensorFlow's
        # object graph of a Keras 3 model reaches only some of them (36 of MaskRCNNTiny's
        # 142: the BatchNorm statistics of its blocks were lost on a restart).
        ckpt = tf.train.Checkpoint(model_variables=list(model.variables),
                                   optimizer_variables=list(model.optimizer.variables),
                                   step=step)
        backup = _Backup(backup_dir, ckpt, chief)
        backup.restore()
    # Whatever each worker found on its disk, all continue from the chief's state.
    broadcast_from_chief(strategy, [*model.variables, *model.optimizer.variables, step])
    done = int(step.numpy())
    options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
    iterator = iter(strategy.distribute_datasets_from_function(
        lambda context: examples.dataset(context, done), options))
    steps = _Steps(model, strategy, step)
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=bool(verbose) and chief, model=model,
        verbose=verbose, epochs=epochs, steps=steps_per_epoch)
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(done // steps_per_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        steps.refresh()
        for batch in range(done - epoch * steps_per_epoch, steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            logs = {k: float(v) for k, v in steps.train(iterator).items()}
            callback_list.on_train_batch_end(batch, logs)
            done += 1
            if model.stop_training:  # e.g. a NaN loss: the same on every worker
                break
            if backup is not None and done % backup_every == 0:
                steps.sync_states()
                backup.save()
        steps.sync_states()
        if validation_data is not None:
            logs = {**logs, **steps.evaluate(validation_data)}
        if checkpoint_path is not None and chief:
            model.save(checkpoint_path)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    if backup is not None and not model.stop_training and not keep_backup:
        backup.discard()
    return model.history.history if getattr(model, "history", None) else {}
