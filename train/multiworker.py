"""Multi-worker training that works with Keras 3: a distributed loop on `strategy.run`.

Keras 3's `model.fit` fails under `tf.distribute.MultiWorkerMirroredStrategy`
(keras-team/keras#20585: the symbolic build reduces a `PerReplica` batch, then
the metric reduction fails). `fit_distributed` trains with the model's own
pieces instead: `model(x, training=True)`, `model.compute_loss` (which scales
the loss by 1/replicas, so the all-reduced gradient is the global-batch mean),
`model.optimizer.apply_gradients` (all-reduces across workers),
`model.compute_metrics` on the gathered global batch, and Keras callbacks (a
progress bar on the chief only).

Every global batch is the same on one process and on N workers: each epoch
shuffles the `datasets.Examples` with ``numpy.random.default_rng([seed,
epoch])`` and cuts the order into global batches; each worker's input pipeline
holds only its replicas' slices of them (`worker_batches`), and augments each
image with the draws of its row in the whole global batch (stateless seed
``[seed, global step]``, see `datasets.augment`). So a 2-worker run and a
single-process run on the same global batches end with the same weights.

Fault tolerance: every `backup_every` steps the chief saves a
`tf.train.Checkpoint` (model, optimizer, step) in `backup_dir` (the others
save into a scratch folder outside it that they delete: saving is a
collective). After a restart the chief restores its latest backup and
broadcasts the weights, optimizer state and step to every worker
(`broadcast_from_chief`), so all workers resume at the same step whatever
their file systems; each skips the batches already trained on.

Run on several machines: set ``TF_CONFIG`` on each host (see `tf_config`),
then start the same command everywhere; worker 0 is the chief.
"""

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.train.datasets import augment


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


def is_multiworker(strategy):
    """True for a `MultiWorkerMirroredStrategy` (Keras's `fit` cannot train under it)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """True on the worker that writes the run's files (worker 0, or the "chief" task);
    True for any strategy of one process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def broadcast_from_chief(strategy, values):
    """Every worker's copy of `values` (variables or tensors) as replica 0's (the chief's).

    One all-reduce: replica 0 contributes its values, every other replica
    zeros, so the sum is the chief's value exactly (integers are summed as
    int64). Variables are assigned the result; returns the list of results.
    """
    if strategy.num_replicas_in_sync == 1:
        return [tf.convert_to_tensor(v) for v in values]

    @tf.function
    def reduce():
        def replica_fn():
            ctx = tf.distribute.get_replica_context()
            first = tf.equal(ctx.replica_id_in_sync_group, 0)
            parts = [tf.convert_to_tensor(v) for v in values]
            parts = [p if p.dtype.is_floating else tf.cast(p, tf.int64) for p in parts]
            parts = [tf.where(first, p, tf.zeros_like(p)) for p in parts]
            reduced = list(parts)
            for dtype in {p.dtype for p in parts}:  # one all-reduce per dtype (packed)
                index = [i for i, p in enumerate(parts) if p.dtype == dtype]
                for i, r in zip(index, ctx.all_reduce("SUM", [parts[i] for i in index])):
                    reduced[i] = r
            return reduced

        return strategy.run(replica_fn)

    results = [tf.cast(strategy.experimental_local_results(r)[0], tf.as_dtype(
        keras.backend.standardize_dtype(v.dtype))) for r, v in zip(reduce(), values)]
    for v, r in zip(values, results):
        if hasattr(v, "assign"):
            v.assign(r)
    return results


def epoch_order(seed, epoch, count):
    """The epoch's shuffle of `count` examples, ``numpy.random.default_rng([seed, epoch])``
    (a seed sequence: seed 0 / epoch 1 and seed 1 / epoch 0 differ)."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def worker_batches(examples, arrays, epoch, *, replicas, first_replica, local_replicas, skip=0):
    """One input pipeline's per-replica batches of an epoch, as a `tf.data.Dataset`.

    Global batch `s` of epoch `e` is the slice ``[s * G, (s + 1) * G)`` of
    `epoch_order` (G = ``examples.batch_size``; the last partial batch is
    dropped); replica `k` of the cluster trains on its rows ``[k * B, (k + 1)
    * B)`` (B = G / replicas), augmented with the draws of those rows under the
    stateless seed ``[seed, e * steps + s]``. This pipeline yields, for each
    step from `skip` on, the batches of replicas ``first_replica ...
    first_replica + local_replicas - 1`` in turn (as
    `strategy.distribute_datasets_from_function` hands them to its replicas).

    Args:
        examples: `datasets.Examples`.
        arrays: ``examples``' data as NumPy arrays (`_arrays`), read once.
        epoch: the epoch (0-based).
        replicas, first_replica, local_replicas: the cluster's replica count and
            this pipeline's replicas.
        skip: steps of the epoch already trained (a resumed run).
    """
    x, y = arrays
    count = len(tf.nest.flatten(x)[0])
    size = examples.batch_size
    steps = count // size
    per_replica = size // replicas
    order = epoch_order(examples.seed, epoch, count)[:steps * size].reshape(
        steps, replicas, per_replica)
    index = order[skip:, first_replica:first_replica + local_replicas].reshape(-1, per_replica)
    step_ids = np.repeat(np.arange(skip, steps) + epoch * steps, local_replicas)
    replica_ids = np.tile(np.arange(first_replica, first_replica + local_replicas), steps - skip)
    take = tf.nest.map_structure(lambda a: a[index], (x, y))
    dataset = tf.data.Dataset.from_tensor_slices((take, step_ids, replica_ids))
    if examples.augmentation == "none":
        return dataset.map(lambda batch, step, replica: batch)

    def _augment(batch, step, replica):
        images, labels = batch
        seed = tf.stack([tf.constant(examples.seed, tf.int64), step])
        return augment(images, seed, augmentation=examples.augmentation, pad=examples.pad,
                       offset=tf.cast(replica, tf.int32) * per_replica,
                       batch_size=size), labels

    return dataset.map(_augment)


def _arrays(examples):
    """`(x, y)` of `examples` as NumPy arrays (a `tf.data` source is read once, whole)."""
    if isinstance(examples.source, tf.data.Dataset):
        count = examples.count()
        whole = next(iter(examples.source.batch(count)))
        return tf.nest.map_structure(np.asarray, tuple(whole))
    return tuple(tf.nest.map_structure(np.asarray, tuple(examples.source)))


def _distributed_dataset(strategy, examples, arrays, epoch, skip):
    replicas = strategy.num_replicas_in_sync
    if examples.batch_size % replicas:
        raise ValueError(f"Expected a global batch size divisible by {replicas} replicas. "
                         f"Received: global_batch_size={examples.batch_size}")

    def dataset_fn(context):
        local = replicas // context.num_input_pipelines
        return worker_batches(examples, arrays, epoch, replicas=replicas,
                              first_replica=context.input_pipeline_id * local,
                              local_replicas=local, skip=skip)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=False)
    return strategy.distribute_datasets_from_function(dataset_fn, options)


def _evaluate(model, dataset):
    """`val_` logs of `dataset` (batches), computed locally outside the strategy (no
    loss scaling) with the model's compiled metrics."""
    loss = keras.metrics.Mean(name="loss")
    model.reset_metrics()
    results = {}
    for batch in dataset:
        x, y, _ = keras.utils.unpack_x_y_sample_weight(batch)
        y_pred = model(x, training=False)
        loss.update_state(model.compute_loss(x=x, y=y, y_pred=y_pred, training=False),
                          sample_weight=tf.shape(tf.nest.flatten(x)[0])[0])
        results = model.compute_metrics(x, y, y_pred)
    return {f"val_{k}": float(v) for k, v in {**results, "loss": loss.result()}.items()}


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


def fit_distributed(model, examples, *, strategy, epochs=1, backup_dir=None, backup_every=None,
                    checkpoint_path=None, callbacks=(), validation_data=None, verbose=1):
    """Trains a compiled `model` (built and compiled inside `strategy.scope()`).

    Args:
        model: a `keras.Model` with an optimizer, a loss and metrics from `compile`.
        examples: `datasets.Examples`: the training examples (the same on every
            worker), the global batch size, the seed of the per-epoch shuffle
            and of the augmentation, the augmentation.
        strategy: e.g. `multiworker_strategy()`; any `tf.distribute.Strategy` works.
        epochs: passes over the data (the last partial batch is dropped).
        backup_dir: where the chief backs up (model, optimizer, step) and restores
            from after a restart (then broadcast to every worker); None: no backup.
            Deleted by the chief when training ends.
        backup_every: steps between backups (default: once per epoch).
        checkpoint_path: a `.keras` file the chief writes at the end of each epoch.
        callbacks: Keras callbacks; they run on every worker, the progress bar on the chief.
        validation_data: a `tf.data.Dataset` of batches, evaluated by every worker at
            each epoch end (logged as `val_loss`, `val_<metric>`).

    Returns:
        `keras.callbacks.History`-like dict of per-epoch logs (loss and metrics).
    """
    chief = is_chief(strategy)
    arrays = _arrays(examples)
    steps_per_epoch = len(tf.nest.flatten(arrays[0])[0]) // examples.batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"Expected at least one global batch. Received: "
                         f"{len(tf.nest.flatten(arrays[0])[0])} examples, "
                         f"global_batch_size={examples.batch_size}")
    backup_every = backup_every or steps_per_epoch
    with strategy.scope():
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        model.optimizer.build(model.trainable_variables)  # no variable creation when traced
    backup = None
    if backup_dir is not None:
        ckpt = tf.train.Checkpoint(model=model, optimizer=model.optimizer, step=step)
        backup = _Backup(backup_dir, ckpt, chief)
        backup.restore()
    # Whatever each worker found on its disk, all continue from the chief's state.
    broadcast_from_chief(strategy, [*model.variables, *model.optimizer.variables, step])
    loss_metric = keras.metrics.Mean(name="loss")

    @tf.function
    def train_step(iterator):
        def step_fn(batch):
            xb, yb, _ = keras.utils.unpack_x_y_sample_weight(batch)
            with tf.GradientTape() as tape:
                y_pred = model(xb, training=True)
                loss = model.compute_loss(x=xb, y=yb, y_pred=y_pred, training=True)
            grads = tape.gradient(loss, model.trainable_weights)
            model.optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss, yb, y_pred

        loss, yb, y_pred = strategy.run(step_fn, args=(next(iterator),))
        step.assign_add(1)
        # compute_loss scaled each replica's loss by 1/replicas: the sum is the mean.
        gather = lambda v: strategy.gather(v, 0)  # noqa: E731
        return (strategy.reduce("SUM", loss, axis=None), tf.nest.map_structure(gather, yb),
                tf.nest.map_structure(gather, y_pred))

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
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(done // steps_per_epoch, epochs):
        skip = max(0, done - epoch * steps_per_epoch)
        iterator = iter(_distributed_dataset(strategy, examples, arrays, epoch, skip))
        loss_metric.reset_state()
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for batch in range(skip, steps_per_epoch):
            callback_list.on_train_batch_begin(batch)
            loss, yb, y_pred = train_step(iterator)
            loss_metric.update_state(loss)
            results = model.compute_metrics(None, yb, y_pred)
            logs = {k: float(v) for k, v in {**results, "loss": loss_metric.result()}.items()}
            callback_list.on_train_batch_end(batch, logs)
            done += 1
            if model.stop_training:  # e.g. a NaN loss: the same on every worker
                break
            if backup is not None and done % backup_every == 0:
                if float_states:
                    sync_states()
                backup.save()
        if float_states:
            sync_states()
        if validation_data is not None:
            logs.update(_evaluate(model, validation_data))
        if checkpoint_path is not None and chief:
            model.save(checkpoint_path)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    if backup is not None and not model.stop_training:
        backup.discard()
    return model.history.history if getattr(model, "history", None) else {}
