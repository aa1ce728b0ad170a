"""`SkippedImages`: the images the streaming pipelines could not decode, counted per split."""

import collections
import threading

from .coco import _count


class SkippedImages:
    """A thread-safe tally of the images `image_pipeline` skips, per split.

    The pipelines call `record` (from a ``tf.numpy_function``, in tf.data's
    threads) for each element that fails to read, parse or decode; the
    `callbacks.SkippedImagesLog` callback `take`s the tally at each epoch end
    and prints `summary`, and the evaluation reports its own.

    Attributes:
        total: a `collections.Counter` of every skip since creation, per split.

    Example:

    >>> skipped = SkippedImages()
    >>> skipped.record("train", "/d/cat/1.jpg (truncated)")
    >>> SkippedImages.summary(*skipped.take())
    'skipped 1 image that could not be decoded: train 1 (e.g. /d/cat/1.jpg (truncated))'
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = collections.Counter()
        self._examples = {}
        self.total = collections.Counter()

    def record(self, split, description):
        """Counts one skipped element of `split`; `description` names it and says why."""
        with self._lock:
            self._counts[split] += 1
            self.total[split] += 1
            self._examples.setdefault(split, description)

    def take(self):
        """``(counts, examples)`` since the last call (per split: the number skipped and
        the first one's description), and starts a new tally."""
        with self._lock:
            taken = dict(self._counts), dict(self._examples)
            self._counts.clear()
            self._examples.clear()
        return taken

    @staticmethod
    def summary(counts, examples):
        """One line for a `take` result, or None when nothing was skipped:
        ``skipped 3 images that could not be decoded: train 2 (e.g. ...), val 1 (e.g. ...)``."""
        total = sum(counts.values())
        if not total:
            return None
        parts = [f"{split} {n} (e.g. {examples[split]})" for split, n in counts.items()]
        return (f"skipped {_count(total, ('image', 'images'))} that could not be decoded: "
                + ", ".join(parts))
