"""`EvaluateCoco`: COCO AP of a detector on a validation split during training."""

import time

import keras

from keras_zoo.train.evaluation import IOU_TYPES, CocoEvaluation, coco_results

LOGGED = tuple(f"{iou_type}_{name}" for iou_type in IOU_TYPES for name in ("AP", "AP50", "AP75"))


class EvaluateCoco(keras.callbacks.Callback):
    """Runs COCOeval (bbox and segm) on a `CocoSplit` at the end of some epochs and adds
    AP, AP50 and AP75 of each to the epoch's logs (`LOGGED`: ``val_bbox_AP`` ...
    ``val_segm_AP75``), so that the progress bar, ``log.csv`` and TensorBoard record them
    (the run puts recipe callbacks before its loggers).

    Evaluates after the first epoch, every `every`-th and the last (``log.csv`` takes its
    columns from the first epoch's logs; the others write "NA" there and no TensorBoard
    point), and prints one line: ``val COCO: bbox AP 0.512, segm AP 0.487 (150 images,
    9 s)``.

    Args:
        split: the `CocoSplit` evaluated.
        categories: the classifier's `CocoCategories`.
        every: evaluate every `every` epochs (>= 1).
        batch_size: images per prediction batch.
        max_images: evaluate the first `max_images` images only (None: all).
        log: called with the line (None: silent).

    Multi-worker runs call it on the chief only (``chief_only``): its numbers go to the
    chief's logs and ``log.csv``.
    """

    chief_only = True  # multi-worker training: the chief evaluates, the others train on

    def __init__(self, split, categories, *, every=1, batch_size=8, max_images=None, log=print):
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"Expected every >= 1. Received: every={every!r}")
        self.split, self.categories = split, categories
        self.every, self.batch_size, self.log = int(every), int(batch_size), log
        self.images = split.images[:max_images]

    def _due(self, epoch):
        last = self.params.get("epochs") if self.params else None
        return epoch == 0 or (epoch + 1) % self.every == 0 or epoch + 1 == last

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or not self._due(epoch):
            return
        start = time.time()
        results, ids = coco_results.predict_results(
            coco_results.predictor(self.model), self.images, self.categories,
            batch_size=self.batch_size, what=self.split.name)
        metrics = CocoEvaluation.run(self.split.ground_truth, results, image_ids=ids).metrics
        logs.update({f"val_{name}": metrics[name] for name in LOGGED})
        if self.log is not None:
            self.log(f"{self.split.name} COCO: bbox AP {metrics['bbox_AP']:.3f}, segm AP "
                     f"{metrics['segm_AP']:.3f} ({len(ids)} images, "
                     f"{time.time() - start:.0f} s)")
