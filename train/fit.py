"""`fit_model`: train a compiled model on `datasets.Inputs`, and touch nothing else.

It reads and writes no run directory and sets no global seed, so a search
can train many children in one process: the batches follow from the
`Inputs` (seeded pipelines) and the initial weights from the model (built by
the caller with seeded initializers). `keras_zoo.train.run.train` is the
run-directory wrapper around it (config, status, checkpoints, resume).

>>> inputs = datasets.Inputs.from_arrays(x_train, y_train, batch_size=64, seed=trial_seed,
...                                      validation=(x_val, y_val))
>>> history = fit_model(child, inputs, epochs=2)          # child built and compiled
>>> max(history["val_accuracy"])
"""

from keras_zoo.train import multiworker
from keras_zoo.train.callbacks import BackupAndRestore


def check_inputs(inputs, strategy):
    """ValueError when `inputs` cannot train under `strategy` (multi-worker training
    needs `inputs.examples`)."""
    if multiworker.is_multiworker(strategy) and inputs.examples is None:
        raise ValueError("Expected inputs with `examples` (what each worker's input pipeline "
                         "reads) for multi-worker training. Received: examples=None")


def fit_model(model, inputs, *, epochs, callbacks=(), backup_dir=None, keep_backup=False,
              verbose=0):
    """Trains `model` for `epochs` epochs and returns the per-epoch logs.

    One process (any strategy but multi-worker): `model.fit` on
    ``inputs.train`` with ``inputs.validation``, ``inputs.steps_per_epoch``
    batches per epoch when the training set's size is unknown (else its
    cardinality). Under `tf.distribute.MultiWorkerMirroredStrategy` (the
    strategy `model` was built under): `multiworker.fit_distributed` on
    ``inputs.examples`` (each worker reads its share; Keras's `fit` fails there,
    keras#20585), ``inputs.distributed_updates_per_epoch()`` updates per epoch.

    With `backup_dir` on one process, training resumes exactly: the newest backup
    (`callbacks.BackupAndRestore`: weights, optimizer, random seed states, callback
    states) is loaded before `fit`, so every callback starts from the restored update
    count, and the batches continue where the uninterrupted run would be: the training
    set is read as one stream (``inputs.train.repeat()``, `fit` keeps one iterator over
    the epochs) from which the batches of the epochs done are skipped: read again and
    dropped, or, with ``inputs.train_from``, passed over unread (ImageNet's file names).
    The backup is taken after every other callback's epoch end.

    Args:
        model: a compiled `keras.Model`, built inside its strategy's scope.
        inputs: `datasets.Inputs`; `Inputs.from_arrays` for in-memory arrays.
        epochs: the index of the last epoch; a run restored from `backup_dir`
            continues where it stopped (and trains nothing when it was done).
        callbacks: Keras callbacks.
        backup_dir: None (no backup), or the folder of a resumable backup:
            `callbacks.BackupAndRestore` at each epoch end on one process; the chief's
            `tf.train.Checkpoint` under multi-worker training.
        keep_backup: keep `backup_dir` when training ends (the caller deletes it once it
            has recorded that training finished); else it is deleted then.
        verbose: Keras verbosity (0 silent, 1 progress bar, 2 a line per epoch).

    Returns:
        dict of per-epoch logs (``loss``, metrics, ``val_*``), as
        `keras.callbacks.History.history`.

    Raises:
        ValueError: the training set's size is unknown and no ``steps_per_epoch``
            was given; multi-worker training without ``inputs.examples``.
    """
    strategy = model.distribute_strategy
    check_inputs(inputs, strategy)
    if multiworker.is_multiworker(strategy):
        return multiworker.fit_distributed(
            model, inputs.examples, strategy=strategy, epochs=epochs, backup_dir=backup_dir,
            keep_backup=keep_backup, steps_per_epoch=inputs.distributed_updates_per_epoch(),
            callbacks=callbacks, validation_data=inputs.validation, verbose=verbose)
    steps = inputs.updates_per_epoch()  # a clear error before Keras's own when unknown
    if backup_dir is None:
        history = model.fit(inputs.train, validation_data=inputs.validation, epochs=epochs,
                            steps_per_epoch=inputs.steps_per_epoch, shuffle=False,  # seeded
                            callbacks=list(callbacks), verbose=verbose)
        return history.history
    backup = BackupAndRestore(backup_dir, callbacks=callbacks, delete_on_end=not keep_backup)
    done = backup.restore_model(model)
    if done >= epochs:
        if not keep_backup:
            backup.on_train_end()
        return {}
    stream = (inputs.train.repeat().skip(done * steps) if inputs.train_from is None
              else inputs.train_from(done * steps).repeat())
    history = model.fit(stream, validation_data=inputs.validation, epochs=epochs,
                        initial_epoch=done, steps_per_epoch=steps, shuffle=False,
                        callbacks=[*callbacks, backup], verbose=verbose)
    return history.history
