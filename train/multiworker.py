"""Multi-worker training that works with Keras 3: a distributed loop on `strategy.run`.

Keras 3's `model.fit` fails under `tf.distribute.MultiWorkerMirroredStrategy`
(keras-team/keras#20585: the symbolic build reduces a `PerReplica` batch, then
the metric reduction fails). `fit_distributed` trains with the model's own
pieces instead: `model(x, training=True)`, `model.compute_loss` (which scales
the loss by 1/replicas, so the all-reduced gradient is the global-batch mean),
`model.optimizer.apply_gradients` (all-reduces across workers), and Keras
callbacks (a progress bar on the chief only).

Every global batch is the same on one process and on N workers: each epoch
shuffles the training set with `seed + epoch`, cuts it into global batches,
augments each whole batch with a stateless seed of (seed, global step), and
replica r of the cluster takes slice r of each batch. So a 2-worker run
and a single-process run on the same global batches end with the same weights.

Fault tolerance: every `backup_every` steps all workers save a
`tf.train.Checkpoint` (model, optimizer, step); the chief writes to
`backup_dir`, the others to scratch directories they delete (the
`MultiWorkerMirroredStrategy` checkpoint pattern). Restarted workers restore
the latest backup and skip the batches already trained on, so a run killed
and restarted finishes with the same number of steps.

Run on several machines: set ``TF_CONFIG`` on each host (see `tf_config`),
then start the same command everywhere; worker 0 is the chief.
"""

import json
import os
import shutil

import keras
import numpy as np
import tensorflow as tf
from keras_zoo.train.datasets import AUGMENTATIONS, augment


def tf_config(workers, task_index):
    """The ``TF_CONFIG`` JSON for worker `task_index` of `workers` ("host:port" list)."""
    workers = [w.strip() for w in (workers.split(",") if isinstance(workers, str) else workers)]
    if not workers or any(":" not in w for w in workers):
        raise ValueError(f"Expected workers as host:port,host:port. Received: workers={workers}")
    if not 0 <= task_index < len(workers):
        raise ValueError(f"Expected 0 <= task_index < {len(workers)}. "
                         f"Received: task_index={task_index}")
    return json.dumps({"cluster": {"worker": workers},
                       "task": {"type": "worker", "index": int(task_index)}})


def multiworker_strategy(workers=None, task_index=None):
    """A `MultiWorkerMirroredStrategy` over ring all-reduce. With `workers`,
    sets ``TF_CONFIG`` first; otherwise ``TF_CONFIG`` must be in the environment."""
    if workers is not None:
        os.environ["TF_CONFIG"] = tf_config(workers, task_index or 0)
    if "TF_CONFIG" not in os.environ:
        raise ValueError("Expected TF_CONFIG in the environment or --workers and --task-index "
                         "for --strategy multiworker. Received: neither")
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def global_batches(x, y, global_batch_size, epoch, seed, *, augmentation="none", pad=None):
    """The epoch's global batches: a seeded shuffle cut into full batches, each
    augmented as a whole before any worker takes its slice.

    Global batch `s` of epoch `e` (global step ``e * steps + s``) is augmented by
    `datasets.augment` with the stateless seed ``[seed, e * steps + s]``: it
    depends on nothing else (not on the worker count, nor on where a resumed
    run restarted), so every worker and a single process see the same batches.

    Args:
        augmentation: ``"none"``, ``"cifar"`` (pad, random crop, flip) or
            ``"shift"`` (pad, random crop); see `datasets.augment`.
        pad: pixels padded per side before the crop; None: the dataset default.

    Returns:
        `(xb, yb)` with shapes `[steps, global_batch_size, ...]`, `x`'s dtype.
    """
    order = np.random.default_rng(seed + epoch).permutation(len(x))
    steps = len(x) // global_batch_size
    order = order[:steps * global_batch_size].reshape(steps, global_batch_size)
    xb, yb = x[order], y[order]
    if augmentation != "none":
        xb = np.stack([augment(tf.constant(batch), tf.constant([seed, epoch * steps + s], tf.int64),
                               augmentation=augmentation, pad=pad).numpy()
                       for s, batch in enumerate(xb)])
    return xb, yb


def _distributed_dataset(strategy, x, y, global_batch_size, epoch, seed, skip, augmentation,
                         pad):
    replicas = strategy.num_replicas_in_sync
    if global_batch_size % replicas:
        raise ValueError(f"Expected a global batch size divisible by {replicas} replicas. "
                         f"Received: global_batch_size={global_batch_size}")
    per_replica = global_batch_size // replicas
    xb, yb = global_batches(x, y, global_batch_size, epoch, seed, augmentation=augmentation,
                            pad=pad)

    def dataset_fn(context):
        # This worker's replicas are consecutive replica ids; each takes its slice of
        # every global batch, in order, so the cluster sees exactly the global batch.
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local
        parts = [(xb[:, (first + r) * per_replica:(first + r + 1) * per_replica],
                  yb[:, (first + r) * per_replica:(first + r + 1) * per_replica])
                 for r in range(local)]
        xs = np.stack([p[0] for p in parts], 1).reshape(-1, per_replica, *x.shape[1:])
        ys = np.stack([p[1] for p in parts], 1).reshape(-1, per_replica, *y.shape[1:])
        return tf.data.Dataset.from_tensor_slices((xs, ys)).skip(skip * local)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
    return strategy.distribute_datasets_from_function(dataset_fn, options), len(xb)


def _evaluate(model, x, y, batch_size, metrics):
    """`val_` logs on `(x, y)`, computed locally outside the strategy (no scaling)."""
    loss = keras.metrics.Mean(name="loss")
    objs = [keras.metrics.get(m) if isinstance(m, str) else type(m).from_config(m.get_config())
            for m in metrics]  # fresh objects: the training metrics keep their state
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        y_pred = model(xb, training=False)
        loss.update_state(model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=False),
                          sample_weight=len(xb))
        for m in objs:
            m.update_state(yb, y_pred)
    return {f"val_{m.name}": float(m.result()) for m in [loss, *objs]}


def fit_run(model, data, config, strategy, callbacks, out, *, epochs, verbose=1):
    """`fit_distributed` for a `keras-zoo train` run (`train.run.train` with
    ``--strategy multiworker``): the run's training set, global batch size,
    epochs and seed; backups in ``out/backup-multiworker``; the run's callbacks
    (its Keras-format BackupAndRestore is replaced by ours)."""
    from keras_zoo.train.callbacks import BackupAndRestore

    if data.y_train.ndim != 1:
        raise ValueError("Expected a classification run (integer labels) for --strategy "
                         f"multiworker. Received: labels of shape {data.y_train.shape}")
    validation = (data.x_val, data.y_val) if data.x_val is not None else None
    return fit_distributed(
        model, data.x_train, data.y_train, strategy=strategy,
        global_batch_size=config["batch_size"], epochs=epochs, seed=config["seed"],
        augmentation=data.augmentation,
        backup_dir=os.path.join(out, "backup-multiworker"),
        callbacks=[c for c in callbacks if not isinstance(c, BackupAndRestore)],
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        validation_data=validation, verbose=verbose)


class _Backup:
    """All workers save; the chief's copy in `directory` is the one kept."""

    def __init__(self, strategy, directory, checkpoint, chief):
        self.checkpoint = checkpoint
        self.directory = directory
        self.chief = chief
        write_dir = directory if chief else os.path.join(
            directory, f".worker-{strategy.cluster_resolver.task_id}-scratch")
        self.manager = tf.train.CheckpointManager(checkpoint, write_dir, max_to_keep=2)

    def restore(self):
        latest = tf.train.latest_checkpoint(self.directory)
        if latest:
            self.checkpoint.restore(latest)
        return latest

    def save(self):
        self.manager.save()
        if not self.chief:
            shutil.rmtree(self.manager.directory, ignore_errors=True)


def fit_distributed(model, x, y, *, strategy, global_batch_size, epochs=1, seed=0,
                    augmentation="none", pad=None, backup_dir=None, backup_every=None,
                    checkpoint_path=None, callbacks=(), metrics=(), validation_data=None,
                    verbose=1):
    """Trains a compiled `model` (built and compiled inside `strategy.scope()`).

    Args:
        model: a `keras.Model` with an optimizer and a loss from `compile`.
        x, y: in-memory training arrays (the same on every worker).
        strategy: e.g. `multiworker_strategy()`; any `tf.distribute.Strategy` works.
        global_batch_size: examples per step over all replicas.
        epochs: passes over the data (the last partial batch is dropped).
        seed: seed of the per-epoch shuffle and of the augmentation.
        augmentation: ``"none"``, ``"cifar"`` or ``"shift"``, applied to each
            global batch with a stateless seed of (seed, global step); see
            `global_batches`. A resumed run sees the same augmented batches.
        pad: pixels padded before the random crop; None: 4 ("cifar"), 2 ("shift").
        backup_dir: where every worker backs up (model, optimizer, step) and restores from.
        backup_every: steps between backups (default: once per epoch).
        checkpoint_path: a `.keras` file the chief writes at the end of each epoch.
        callbacks: Keras callbacks; they run on every worker, the progress bar on the chief.
        metrics: metric names or objects, computed on the gathered global batch.
        validation_data: `(x_val, y_val)`, evaluated by every worker at each epoch
            end (logged as `val_loss`, `val_<metric>`).

    Returns:
        `keras.callbacks.History`-like dict of per-epoch logs (loss and metrics).
    """
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"Expected augmentation in {AUGMENTATIONS}. "
                         f"Received: augmentation={augmentation!r}")
    chief = _is_chief(strategy)
    steps_per_epoch = len(x) // global_batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"Expected at least one global batch. Received: {len(x)} examples, "
                         f"global_batch_size={global_batch_size}")
    backup_every = backup_every or steps_per_epoch
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        model.optimizer.build(model.trainable_variables)  # no variable creation when traced
    backup = None
    if backup_dir is not None:
        ckpt = tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=step)
        backup = _Backup(strategy, backup_dir, ckpt, chief)
        backup.restore()
    loss_metric = keras.metrics.Mean(name="loss")
    metric_objs = [keras.metrics.get(m) for m in metrics]

    @tf.function
    def train_step(iterator):
        def step_fn(xb, yb):
            with tf.GradientTape() as tape:
                y_pred = model(xb, training=True)
                loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
            grads = tape.gradient(loss, model.trainable_weights)
            model.optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss, yb, y_pred

        loss, yb, y_pred = strategy.run(step_fn, args=next(iterator))
        step.assign_add(1)
        # compute_loss scaled each replica's loss by 1/replicas: the sum is the mean.
        return (strategy.reduce("SUM", loss, axis=None), strategy.gather(yb, 0),
                strategy.gather(y_pred, 0))

    float_states = [v for v in model.non_trainable_variables
                    if keras.backend.standardize_dtype(v.dtype).startswith(("float", "bfloat"))]

    @tf.function
    def sync_states():
        # Each replica updates its own BatchNorm moving statistics (mirrored variables
        # with no aggregation); average them so every worker saves the same model.
        def fn():
            ctx = tf.distribute.get_replica_context()
            for v in float_states:
                v.assign(ctx.all_reduce("MEAN", tf.identity(v.value)))

        strategy.run(fn)

    callback_list = keras.callbacks.CallbackList(
        list(callbacks), add_history=True, add_progbar=bool(verbose) and chief, model=model,
        verbose=verbose, epochs=epochs, steps=steps_per_epoch)
    done = int(step.numpy())
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(done // steps_per_epoch, epochs):
        skip = done - epoch * steps_per_epoch if done > epoch * steps_per_epoch else 0
        dataset, _ = _distributed_dataset(strategy, x, y, global_batch_size, epoch, seed, skip,
                                          augmentation, pad)
        iterator = iter(dataset)
        for m in [loss_metric, *metric_objs]:
            m.reset_state()
        callback_list.on_epoch_begin(epoch)
        for batch in range(skip, steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            loss, yb, y_pred = train_step(iterator)
            loss_metric.update_state(loss)
            for m in metric_objs:
                m.update_state(yb, y_pred)
            logs = {m.name: float(m.result()) for m in [loss_metric, *metric_objs]}
            callback_list.on_train_batch_end(batch, logs)
            done += 1
            if backup is not None and done % backup_every == 0:
                if float_states:
                    sync_states()
                backup.save()
        if float_states:
            sync_states()
        if validation_data is not None:
            logs.update(_evaluate(model, *validation_data, global_batch_size, metrics))
        if checkpoint_path is not None and chief:
            model.save(checkpoint_path)
        callback_list.on_epoch_end(epoch, logs)
    callback_list.on_train_end(logs)
    return model.history.history if getattr(model, "history", None) else {}
