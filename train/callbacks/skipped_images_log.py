"""`SkippedImagesLog`: one line per epoch on the images the input pipelines skipped."""

import sys

import keras


class SkippedImagesLog(keras.callbacks.Callback):
    """At each epoch end, logs how many images the streaming pipelines skipped.

    Takes the tally of a `datasets.SkippedImages` (the images that could not be
    read or decoded while the epoch's batches were made, validation included), adds
    it to the epoch's logs as ``skipped_images`` (so ``log.csv`` and TensorBoard
    record it; 0 when none) and, when it is not 0, prints one line naming the
    first skipped file of each split, e.g. ``keras-zoo: epoch 3: skipped 2 images
    that could not be decoded: train 2 (e.g. /data/train/cat/1.jpg (OSError: image
    file is truncated))``. Prefetching decodes a few batches ahead, so an image
    skipped near an epoch's end may be counted in the next epoch.

    Args:
        skipped: the `datasets.SkippedImages` the pipelines record into.
        stream: where the line goes (default: standard error).
    """

    def __init__(self, skipped, stream=None):
        super().__init__()
        self.skipped = skipped
        self.stream = stream

    def on_epoch_end(self, epoch, logs=None):
        counts, examples = self.skipped.take()
        if logs is not None:
            logs["skipped_images"] = sum(counts.values())
        line = self.skipped.summary(counts, examples)
        if line:
            print(f"keras-zoo: epoch {epoch + 1}: {line}", file=self.stream or sys.stderr,
                  flush=True)
