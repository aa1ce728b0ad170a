"""Keras callbacks for keras_zoo training runs.

A run (see `keras_zoo.train.run`) uses Keras's progress bar
(``fit(verbose=...)``), ``keras.callbacks.CSVLogger``,
``keras.callbacks.TensorBoard`` and the callbacks below:

- `Checkpoint`: ``last.keras`` and ``best.keras``, written atomically,
  never with non-finite weights.
- `BackupAndRestore`: resume a killed run exactly at its last completed epoch.
- `TerminateOnNaN`: stop at the first non-finite loss and say where.
- `Warmup`: constant warm-up learning rate for plateau-driven runs.
- `WarmupUntilError`: end a `StepSchedule`'s warm-up once the training error
  is below 80% (He et al. 2015, Sec. 4.2).
- `LearningRateLog`: ``lr.csv``, one row per update (step, learning rate,
  training error).
- `TemperatureAnnealing`: Jang et al.'s Concrete temperature schedule.
- `EvaluateCoco`: COCO AP (bbox, segm) of a detector on a validation split.
- `SkippedImagesLog`: one line per epoch on the images the streaming pipelines
  skipped (``skipped_images`` in the logs).
- `FineTuneStages`: train the new classifier first, then the whole network.
- `ReduceLROnPlateau`: Keras's, its patience kept across a resumed run.
"""

from .backup_and_restore import BackupAndRestore
from .checkpoint import Checkpoint
from .evaluate_coco import EvaluateCoco
from .fine_tune_stages import FineTuneStages
from .learning_rate_log import LearningRateLog
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .skipped_images_log import SkippedImagesLog
from .temperature_annealing import TemperatureAnnealing
from .terminate_on_nan import TerminateOnNaN
from .warmup import Warmup
from .warmup_until_error import WarmupUntilError

__all__ = ["BackupAndRestore", "Checkpoint", "EvaluateCoco", "FineTuneStages",
           "LearningRateLog", "ReduceLROnPlateau", "SkippedImagesLog", "TemperatureAnnealing",
           "TerminateOnNaN", "Warmup", "WarmupUntilError"]
