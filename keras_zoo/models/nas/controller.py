"""`Controller`: the autoregressive LSTM policy of Zoph & Le 2016 (arXiv:1611.01578), Sec. 3."""

import keras
import numpy as np
from keras import ops

from keras_zoo.checks import positive_int
from keras_zoo.models.nas import spaces

INIT_SCALE = 0.08  # Sec. 4.1: "weights are initialized uniformly between -0.08 and 0.08"


@keras.saving.register_keras_serializable(package="keras_zoo")
class Controller(keras.Model):
    """Samples child architectures of a search space one decision at a time.

    A stack of `num_lstm_layers` LSTM cells runs one step per decision of
    `space.decisions` (Sec. 3.1, Fig. 2). A categorical step has its own
    softmax over the top LSTM output, and the embedding of the chosen value
    (its own table) is the next step's input. At the anchor point of layer
    i (Sec. 3.3, Fig. 4) the top output h_i is compared with the outputs
    h_j of the earlier anchors:

        P(layer j feeds layer i) = sigmoid(vᵀ tanh(W_prev h_j + W_curr h_i)),

    one independent Bernoulli per j < i. The input after an anchor is the
    mean of a learned "image" vector and the chosen h_j (the choice that
    takes no earlier layer feeds the image). The first step's input is a
    learned start vector. Every weight, biases included, starts
    U(-0.08, 0.08) (Sec. 4.1).

    A sample's log-probability is the sum over its decisions; its entropy is
    the sum of each decision's entropy given the earlier choices (what an
    entropy bonus maximises).

    Args:
        space: any search space (see `spaces`: `SearchSpace`, `RecurrentCellSpace`,
            `ChoiceSpace`), a list of choice counts or a `spaces.serialize` dict.
        units: LSTM width and embedding size (Sec. 4.1: 35 hidden units).
        num_lstm_layers: stacked LSTM cells (Sec. 4.1: two layers).
        seed: int seed of the initial weights (None: random).
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        actions: int ``[B, space.num_actions]`` action vectors (see the
            space's `encode`); the controller is teacher-forced with them.

    Returns:
        ``(log_prob, entropy)``, float32 ``[B]`` each.

    Example:

    >>> controller = Controller(SearchSpace(3), seed=0)
    >>> archs, log_probs, entropies = controller.sample(2, seed=1)
    >>> log_prob, _ = controller.log_prob(archs)  # equals log_probs up to rounding
    """

    def __init__(self, space, units=35, num_lstm_layers=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        space = spaces.get(space)
        positive_int("units", units)
        positive_int("num_lstm_layers", num_lstm_layers)
        self.space = space
        self.units = units
        self.num_lstm_layers = num_lstm_layers
        self.seed = seed
        self._init_count = 0
        uniform = self._uniform
        self.cells = [keras.layers.LSTMCell(
            units, kernel_initializer=uniform(), recurrent_initializer=uniform(),
            bias_initializer=uniform(), unit_forget_bias=False, name=f"lstm_{k}")
            for k in range(num_lstm_layers)]
        self.heads, self.embeddings = [], []
        for d in space.decisions:
            if d.choices is None:
                continue
            tag = f"layer{d.layer}_{d.name}"
            self.heads.append(keras.layers.Dense(len(d.choices), kernel_initializer=uniform(),
                                                 bias_initializer=uniform(), name=f"{tag}_softmax"))
            self.embeddings.append(keras.layers.Embedding(len(d.choices), units,
                                                          embeddings_initializer=uniform(),
                                                          name=f"{tag}_embedding"))
        # The anchor weights exist only in a space with anchor points (not in a list of choices).
        anchors = any(d.choices is None for d in space.decisions)
        if anchors:
            self.w_prev = keras.layers.Dense(units, use_bias=False, kernel_initializer=uniform(),
                                             name="w_prev")
            self.w_curr = keras.layers.Dense(units, use_bias=False, kernel_initializer=uniform(),
                                             name="w_curr")
            self.v = keras.layers.Dense(1, use_bias=False, kernel_initializer=uniform(), name="v")
        self.start = self.add_weight(shape=(units,), initializer=uniform(), name="start")
        if anchors:
            self.image = self.add_weight(shape=(units,), initializer=uniform(), name="image")
        for cell in self.cells:
            cell.build((None, units))
        for head, embedding in zip(self.heads, self.embeddings):
            head.build((None, units))
            embedding.build((None,))
        for dense in (self.w_prev, self.w_curr, self.v) if anchors else ():
            dense.build((None, units))
        self.built = True

    def _uniform(self):
        seed = None if self.seed is None else self.seed * 1000 + self._init_count
        self._init_count += 1
        return keras.initializers.RandomUniform(-INIT_SCALE, INIT_SCALE, seed=seed)

    @property
    def max_choices(self):
        return max([len(d.choices) for d in self.space.decisions if d.choices] + [1])

    def call(self, actions):
        _, log_prob, entropy = self._unroll(actions=ops.cast(actions, "int32"))
        return log_prob, entropy

    def sample_noise(self, num, seed=None):
        """Uniform noise ``[num, num_actions, max_choices]`` that `sample_actions`
        turns into `num` samples; `seed` (int or `keras.random.SeedGenerator`)
        makes it reproducible."""
        shape = (num, self.space.num_actions, self.max_choices)
        return keras.random.uniform(shape, minval=np.finfo(np.float32).tiny, maxval=1.0,
                                    seed=seed)

    def sample_actions(self, noise):
        """Samples one action vector per row of `noise` (see `sample_noise`).

        Categorical steps take the Gumbel-max of their logits with the noise
        of their entries; skip bits are ``u < sigmoid(logit)``.

        Returns:
            ``(actions, log_prob, entropy)``: int32 ``[B, num_actions]``,
            float32 ``[B]``, float32 ``[B]``.
        """
        return self._unroll(noise=noise)

    def sample(self, num=1, seed=None):
        """`num` architectures with their log-probabilities and entropies.

        Returns:
            ``(archs, log_probs, entropies)``: a list of `Architecture`,
            float32 NumPy ``[num]``, float32 NumPy ``[num]``; the architectures
            are what the space's `decode` returns.
        """
        actions, log_prob, entropy = self.sample_actions(self.sample_noise(num, seed))
        actions = ops.convert_to_numpy(actions)
        return ([self.space.decode(a) for a in actions], ops.convert_to_numpy(log_prob),
                ops.convert_to_numpy(entropy))

    def log_prob(self, archs):
        """Teacher-forced ``(log_prob, entropy)`` of a list of architectures, ``[B]`` each."""
        return self(np.stack([self.space.encode(arch) for arch in archs]))

    def _step(self, x, states):
        new_states = []
        for cell, state in zip(self.cells, states):
            x, state = cell(x, state)
            new_states.append(state)
        return x, new_states

    def _unroll(self, actions=None, noise=None):
        batch = ops.shape(actions if actions is not None else noise)[0]
        zeros = ops.zeros((batch, self.units))
        states = [[zeros, zeros] for _ in self.cells]
        x = ops.broadcast_to(self.start[None], (batch, self.units))
        log_prob = ops.zeros((batch,))
        entropy = ops.zeros((batch,))
        taken, anchors, keys = [], [], []
        heads = iter(zip(self.heads, self.embeddings))
        for d in self.space.decisions:
            h, states = self._step(x, states)
            if d.choices is not None:
                head, embedding = next(heads)
                log_p = ops.log_softmax(head(h), axis=-1)
                if actions is None:
                    gumbel = -ops.log(-ops.log(noise[:, d.offset, :len(d.choices)]))
                    choice = ops.cast(ops.argmax(log_p + gumbel, axis=-1), "int32")
                else:
                    choice = actions[:, d.offset]
                log_prob += ops.take_along_axis(log_p, choice[:, None], axis=-1)[:, 0]
                entropy -= ops.sum(ops.exp(log_p) * log_p, axis=-1)
                taken.append(choice[:, None])
                x = embedding(choice)
                continue
            x = ops.broadcast_to(self.image[None], (batch, self.units))
            if d.size:
                query = self.w_curr(h)[:, None, :]  # [B, 1, units]
                logits = self.v(ops.tanh(ops.stack(keys, axis=1) + query))[..., 0]  # [B, i]
                if actions is None:
                    bits = ops.cast(noise[:, d.offset:d.offset + d.size, 0] < ops.sigmoid(logits),
                                    "int32")
                else:
                    bits = actions[:, d.offset:d.offset + d.size]
                on = ops.cast(bits, "float32")
                log_on, log_off = ops.log_sigmoid(logits), ops.log_sigmoid(-logits)
                log_prob += ops.sum(on * log_on + (1 - on) * log_off, axis=-1)
                p_on = ops.sigmoid(logits)
                entropy -= ops.sum(p_on * log_on + (1 - p_on) * log_off, axis=-1)
                taken.append(bits)
                chosen = ops.sum(on[..., None] * ops.stack(anchors, axis=1), axis=1)
                x = (x + chosen) / (1.0 + ops.sum(on, axis=-1, keepdims=True))
            anchors.append(h)
            keys.append(self.w_prev(h))
        return ops.concatenate(taken, axis=-1), log_prob, entropy

    def get_config(self):
        config = super().get_config()
        config.update({"space": spaces.serialize(self.space), "units": self.units,
                       "num_lstm_layers": self.num_lstm_layers, "seed": self.seed})
        return config
