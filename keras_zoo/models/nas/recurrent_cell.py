"""`RecurrentCell`: a Keras RNN cell of the recurrent-cell space (Zoph & Le 2016, Sec. 3.4)."""

import keras
from keras import ops

from keras_zoo.checks import positive_int
from keras_zoo.models.nas.cell_architecture import CellArchitecture, tree_children

ACTIVATION_FUNCTIONS = {"identity": lambda x: x, "tanh": ops.tanh, "relu": ops.relu,
                        "sigmoid": ops.sigmoid}


def _combine(how, a, b):
    return a + b if how == "add" else a * b


def cell_architecture(value):
    """A `CellArchitecture` from itself, its `to_dict()` or a name of `CELLS`."""
    if isinstance(value, CellArchitecture):
        return value
    if isinstance(value, str):
        return CellArchitecture.named(value)
    return CellArchitecture.from_dict(value)


@keras.saving.register_keras_serializable(package="keras_zoo")
class RecurrentCell(keras.layers.Layer):
    """The recurrent cell of a `CellArchitecture`, for `keras.layers.RNN`.

    One step (Zoph & Le 2016, Sec. 3.4, Fig. 5): every leaf i combines
    ``W_i x_t`` and ``U_i h_{t-1} (+ b_i)`` (one matrix product each for all
    leaves), every inner node its two children, each node then applies its
    activation; c_{t-1} is injected after node ``inject_node``'s activation
    and c_t is node ``memory_node``'s pre-activation; h_t is the root's
    output. ``RecurrentCell("nascell", units)`` is the cell the paper found on
    Penn Treebank (Appendix A, Fig. 8), wired as TensorFlow's `NASCell`.

    The states are ``[h, c]`` like `keras.layers.LSTMCell`'s, so the cell
    drops in where an `LSTMCell` goes: masks, ``return_sequences``,
    ``return_state``, ``initial_state`` and ``stateful`` are `keras.layers.RNN`'s.

    Args:
        architecture: a `CellArchitecture`, its `to_dict()`, or a cell name
            (``"nascell"``).
        units: width of h and c.
        use_bias: a bias per leaf, added to its recurrent term (as
            TensorFlow's `NASCell`; off there and in the paper's equations).
        kernel_initializer: initializer of the W (input) matrices.
        recurrent_initializer: initializer of the U (recurrent) matrices.
        bias_initializer: initializer of the bias.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: ``[B, input_dim]``, x_t.
        states: ``[h, c]``, ``[B, units]`` each.

    Returns:
        ``(h_t, [h_t, c_t])``, ``[B, units]`` each.

    Example:

    >>> rnn = keras.layers.RNN(RecurrentCell("nascell", 16), return_sequences=True)
    >>> rnn(np.zeros((2, 5, 3), "float32")).shape
    (2, 5, 16)
    """

    def __init__(self, architecture, units, use_bias=False, kernel_initializer="glorot_uniform",
                 recurrent_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.cell = cell_architecture(architecture)
        self.architecture = architecture if isinstance(architecture, str) else \
            self.cell.to_dict()
        self.units = positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.state_size = [self.units, self.units]
        self.output_size = self.units
        self._children = tree_children(self.cell.base)

    def build(self, input_shape):
        width = self.cell.base * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], width), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, width),
                                                name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias = self.add_weight(shape=(width,), name="bias",
                                    initializer=self.bias_initializer) if self.use_bias else None

    def call(self, inputs, states):
        h_prev, c_prev = states[0], states[1]
        cell, base = self.cell, self.cell.base
        recurrent = ops.matmul(h_prev, self.recurrent_kernel)
        if self.use_bias:
            recurrent = recurrent + self.bias
        xs = ops.split(ops.matmul(inputs, self.kernel), base, axis=-1)
        hs = ops.split(recurrent, base, axis=-1)
        outputs, memory = [], None
        for node in range(cell.num_nodes):
            a, b = (xs[node], hs[node]) if node < base else \
                (outputs[j] for j in self._children[node - base])
            pre = _combine(cell.combinations[node], a, b)
            if node == cell.memory_node:
                memory = pre
            out = ACTIVATION_FUNCTIONS[cell.activations[node]](pre)
            if node == cell.inject_node:
                out = ACTIVATION_FUNCTIONS[cell.inject_activation](
                    _combine(cell.inject_combination, out, c_prev))
            outputs.append(out)
        return outputs[-1], [outputs[-1], memory]

    def get_config(self):
        config = super().get_config()
        config.update({
            "architecture": self.architecture, "units": self.units, "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer)})
        return config
