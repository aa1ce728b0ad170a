"""`BackupAndRestore`: Keras's resume-after-kill backup that never saves NaN weights."""

import keras

from ._finite import is_finite


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """``keras.callbacks.BackupAndRestore`` (per-epoch backup; a killed run
    restarted with the same backup directory resumes at the epoch after the
    last completed one, with the optimizer state, hence the iteration count
    of step schedules) with two changes: an epoch whose loss or weights are
    not finite is not backed up, and the previous backup is kept as well
    (``double_checkpoint=True``) so a kill during the write can fall back.

    Args:
        backup_dir: folder of the backup; deleted when training ends normally.
    """

    def __init__(self, backup_dir):
        super().__init__(backup_dir, save_freq="epoch", double_checkpoint=True,
                         delete_checkpoint=True)

    def on_epoch_end(self, epoch, logs=None):
        if is_finite(self.model, logs):
            super().on_epoch_end(epoch, logs)
