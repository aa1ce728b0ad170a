"""A resumed run's logs keep only what happened before the state it resumes from.

A run killed during epoch N+1 (or after its log row, before its backup) resumes from the
backup of epoch N and trains epoch N+1 again: `drop_epochs_from` first removes the rows of
``log.csv`` and the TensorBoard summaries of epochs N+1 on, so each epoch appears once.
(``lr.csv`` does the same by update step itself: `callbacks.LearningRateLog`.)
"""

import csv
import os

from keras_zoo.train.atomic_files import atomic_path

EVENT_FILE_PREFIX = "events.out.tfevents."


def drop_epochs_from(run, epoch, step):
    """Removes, from the run directory `run` (a `run_dir.RunDirectory`), the ``log.csv``
    rows and TensorBoard summaries of the epochs `epoch` (0-based) and later, which begin
    at update `step`."""
    _drop_csv_rows(run.join("log.csv"), epoch)
    tensorboard = run.join("tensorboard")
    for root, _, names in os.walk(tensorboard):
        for name in names:
            if name.startswith(EVENT_FILE_PREFIX):
                _drop_events(os.path.join(root, name), epoch, step)


def _drop_csv_rows(path, epoch):
    """Keeps the header and the rows whose ``epoch`` column is below `epoch` (a row cut
    short by a kill has no valid epoch and goes too)."""
    if not os.path.exists(path):
        return
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    column = header.index("epoch") if "epoch" in header else None
    kept = [row for row in body if column is not None and len(row) == len(header)
            and row[column].isdigit() and int(row[column]) < epoch]
    if len(kept) == len(body):
        return
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *kept])


def _drop_events(path, epoch, step):
    """Rewrites a TensorBoard event file without the summaries from `epoch` on (Keras's
    `TensorBoard` writes ``epoch_*`` at step = epoch and ``*_vs_iterations`` at step =
    the update count, from `step` on); a record cut short by a kill ends the file."""
    import tensorflow as tf

    kept, dropped = [], False
    try:
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            tags = [value.tag for value in event.summary.value]
            first = step if any(t.endswith("_vs_iterations") for t in tags) else epoch
            if event.HasField("summary") and event.step >= first:
                dropped = True
            else:
                kept.append(record.numpy())
    except tf.errors.DataLossError:
        dropped = True  # the last record was cut short
    if not dropped:
        return
    with atomic_path(path) as tmp:
        with tf.io.TFRecordWriter(tmp) as writer:
            for record in kept:
                writer.write(record)
