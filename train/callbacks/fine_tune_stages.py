"""`FineTuneStages`: train the new classifier first, then the whole network."""

import keras


class FineTuneStages(keras.callbacks.Callback):
    """Two-stage fine-tuning: only the `head` layers train for the first `head_epochs`
    epochs, then every layer (Keras' transfer-learning guide, from the command line).

    At the start of each epoch the layers of the model not named in `head` get
    ``trainable = head_epochs <= epoch`` (in the first stage they are frozen: no
    gradient flows into them and frozen batch normalisation stays in inference
    mode); when that changes, the training step is rebuilt
    (``model.make_train_function(force=True)``), so a run resumed in either stage
    trains the right layers. Layers whose variables were created non-trainable
    (e.g. `layers.FrozenBatchNormalization`) stay frozen throughout.

    The optimizer must have been built for every variable before the first stage
    (``model.optimizer.build(model.trainable_variables)`` while all layers are
    trainable), so that its state covers the layers the second stage unfreezes. The
    learning rate of each stage is the schedule's business (e.g. a `StepSchedule`
    with a boundary at ``head_epochs * steps_per_epoch``).

    Args:
        head_epochs: epochs of the first stage (0: everything trains from the start).
        head: names of the top-level layers that always train (the new classifier,
            "fc").
    """

    def __init__(self, head_epochs, head=("fc",)):
        super().__init__()
        self.head_epochs = int(head_epochs)
        self.head = tuple(head)
        self.body_trainable = None  # what the model's body is set to, once set

    def on_epoch_begin(self, epoch, logs=None):
        wanted = epoch >= self.head_epochs
        if wanted == self.body_trainable:
            return
        for layer in self.model.layers:
            if layer.name not in self.head:
                layer.trainable = wanted
        self.body_trainable = wanted
        self.model.make_train_function(force=True)
