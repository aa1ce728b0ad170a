"""`L2SGD`: SGD with momentum and the L2 weight decay of Caffe / Torch / PyTorch."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class L2SGD(keras.optimizers.SGD):
    """SGD with momentum whose weight decay is added to the gradient.

    ``g <- g + l2 * w`` for the variables whose name is in `l2_names` (by
    default the kernels of convolutions and dense layers, not BN gamma/beta
    nor biases), then Keras's SGD momentum update. This is the coupled
    decay of Caffe, Torch and ``torch.optim.SGD(weight_decay=...)``, i.e.
    the gradient of ``l2 / 2 * ||w||^2``, as used by He et al. 2015
    (Sec. 3.4 and 4.2: "weight decay of 0.0001 and momentum of 0.9").

    Why not ``keras.optimizers.SGD(weight_decay=1e-4)``: Keras applies that
    decay decoupled (``w <- w - lr * wd * w``, outside the momentum buffer),
    which with momentum 0.9 is about ten times weaker in steady state than
    the papers' decay, so the papers' 1e-4 would not mean the same thing.

    A schedule's own state (its ``variables``, e.g. `StepSchedule.warmup_end`)
    is tracked as the optimizer's, so ``model.save``, ``save_weights`` and
    `callbacks.BackupAndRestore` keep it with the iteration count.

    Args:
        learning_rate: float or `LearningRateSchedule`.
        momentum: the momentum coefficient (0.9 in the paper).
        l2: the weight-decay coefficient (1e-4 in the paper).
        l2_names: variable names (``variable.name``) that decay.
        nesterov: Nesterov momentum.
        **kwargs: other `keras.optimizers.Optimizer` arguments; `weight_decay`
            (the decoupled kind) is refused to avoid decaying twice.
    """

    def __init__(self, learning_rate=0.1, momentum=0.9, l2=1e-4, l2_names=("kernel",),
                 nesterov=False, **kwargs):
        if kwargs.get("weight_decay"):
            raise ValueError("Expected weight_decay=None: L2SGD decays through `l2`. "
                             f"Received: weight_decay={kwargs['weight_decay']}")
        kwargs.pop("weight_decay", None)
        super().__init__(learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
                         **kwargs)
        self.l2 = float(l2)
        self.l2_names = tuple(l2_names)
        # Assigned attributes are tracked: the list's variables join `self.variables`.
        self._schedule_variables = list(getattr(learning_rate, "variables", ()))

    def build(self, variables):
        super().build(variables)
        # Keys, not names: the TF backend hands update_step the underlying tf.Variable.
        self._l2_keys = {self._var_key(v) for v in variables if v.name in self.l2_names}

    def update_step(self, gradient, variable, learning_rate):
        if self.l2 and self._var_key(variable) in self._l2_keys:
            gradient = ops.add(ops.cast(gradient, variable.dtype),
                               ops.multiply(ops.cast(self.l2, variable.dtype), variable))
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        config = super().get_config()
        config.update({"l2": self.l2, "l2_names": list(self.l2_names)})
        config.pop("weight_decay", None)
        return config
