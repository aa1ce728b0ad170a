"""`ReduceLROnPlateau`: Keras's, with its patience kept across a resumed run."""

import keras


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """``keras.callbacks.ReduceLROnPlateau`` whose state (the best value so far, the epochs
    waited, the cooldown left) goes into the run's backup (`BackupAndRestore` calls
    `resume_state` and `restore_state`), so a run resumed after a kill divides the learning
    rate at the same epochs as an uninterrupted one. The learning rate itself is an
    optimizer variable, backed up with the weights."""

    def resume_state(self):
        return {"best": float(self.best), "wait": int(self.wait),
                "cooldown_counter": int(self.cooldown_counter)}

    def restore_state(self, state):
        self.best = state["best"]
        self.wait = state["wait"]
        self.cooldown_counter = state["cooldown_counter"]
