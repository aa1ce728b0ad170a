"""Keras callbacks for keras_zoo training runs.

A run (see `keras_zoo.train.run`) uses Keras's progress bar
(``fit(verbose=...)``), ``keras.callbacks.CSVLogger``,
``keras.callbacks.TensorBoard`` and the callbacks below:

- `Checkpoint`: ``last.keras`` and ``best.keras``, written atomically,
  never with non-finite weights.
- `BackupAndRestore`: resume a killed run at its last completed epoch.
- `TerminateOnNaN`: stop at the first non-finite loss and say where.
- `Warmup`: constant warm-up learning rate for plateau-driven runs.
- `TemperatureAnnealing`: Jang et al.'s Concrete temperature schedule.
- `EvaluateCoco`: COCO AP (bbox, segm) of a detector on a validation split.
"""

from .backup_and_restore import BackupAndRestore
from .checkpoint import Checkpoint
from .evaluate_coco import EvaluateCoco
from .temperature_annealing import TemperatureAnnealing
from .terminate_on_nan import TerminateOnNaN
from .warmup import Warmup

__all__ = ["BackupAndRestore", "Checkpoint", "EvaluateCoco", "TemperatureAnnealing",
           "TerminateOnNaN", "Warmup"]
