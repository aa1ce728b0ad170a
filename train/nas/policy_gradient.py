"""`PolicyGradient`: trains the `Controller` from child rewards (REINFORCE or PPO)."""

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.models.nas import Controller
from keras_zoo.train.nas import losses

ALGORITHMS = ("reinforce", "ppo")


class PolicyGradient:
    """Proposes architectures from a `Controller` and updates it from their rewards.

    One update takes the m children of a batch (Zoph & Le 2016, Sec. 3.2):
    advantages ``R_k - b`` against an exponential moving average b of the
    earlier rewards (b starts at the mean of the first batch, so the first
    update sees zero-mean advantages), then Adam on `losses.reinforce_loss`
    (one step) or `losses.ppo_loss` (`ppo_epochs` steps on the batch, with the
    log-probabilities before the update as θ_old). After the update b moves
    towards each reward of the batch in turn: ``b <- d b + (1 - d) R_k``.

    Sampling and the update step are compiled with `tf.function`, each traced
    once for any m.

    Args:
        controller: the `Controller`.
        algorithm: ``"reinforce"`` or ``"ppo"``.
        learning_rate: Adam's learning rate.
        baseline_decay: d of the moving-average baseline.
        entropy_weight: β of the entropy bonus (0: none).
        ppo_clip: ε of PPO's clipped ratio.
        ppo_epochs: PPO gradient steps per batch.
    """

    def __init__(self, controller, *, algorithm="reinforce", learning_rate=0.0006,
                 baseline_decay=0.95, entropy_weight=0.0, ppo_clip=0.2, ppo_epochs=4):
        if not isinstance(controller, Controller):
            raise ValueError(f"Expected a Controller. Received: {type(controller).__name__}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"Expected algorithm in {ALGORITHMS}. Received: {algorithm!r}")
        if not 0 <= baseline_decay < 1:
            raise ValueError(f"Expected baseline_decay in [0, 1). "
                             f"Received: baseline_decay={baseline_decay!r}")
        self.controller = controller
        self.algorithm = algorithm
        self.baseline_decay = float(baseline_decay)
        self.entropy_weight = float(entropy_weight)
        self.ppo_clip = float(ppo_clip)
        self.ppo_epochs = int(ppo_epochs)
        self.baseline = None
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(controller.trainable_variables)
        # One trace each, for any m: the batch dimension is left free.
        num_actions, max_choices = controller.space.num_actions, controller.max_choices
        actions = tf.TensorSpec([None, num_actions], tf.int32)
        per_child = tf.TensorSpec([None], tf.float32)
        self._sample = tf.function(controller.sample_actions, input_signature=[
            tf.TensorSpec([None, num_actions, max_choices], tf.float32)])
        self._step = tf.function(self._train_step,
                                 input_signature=[actions, per_child, per_child])
        self._log_prob = tf.function(lambda actions: controller(actions)[0],
                                     input_signature=[actions])

    @property
    def space(self):
        return self.controller.space

    def propose(self, num, seed):
        """`num` architectures sampled with the int `seed`: a list of
        ``(arch, {"log_prob": ..., "entropy": ...})``."""
        actions, log_prob, entropy = self._sample(self.controller.sample_noise(num, seed))
        actions, log_prob, entropy = (t.numpy() for t in (actions, log_prob, entropy))
        return [(self.space.decode(a), {"log_prob": float(lp), "entropy": float(h)})
                for a, lp, h in zip(actions, log_prob, entropy)]

    def _train_step(self, actions, advantage, old_log_prob):
        variables = self.controller.trainable_variables
        with tf.GradientTape() as tape:
            log_prob, entropy = self.controller(actions)
            if self.algorithm == "ppo":
                loss = losses.ppo_loss(log_prob, entropy, advantage, old_log_prob,
                                       clip=self.ppo_clip, entropy_weight=self.entropy_weight)
            else:
                loss = losses.reinforce_loss(log_prob, entropy, advantage,
                                             entropy_weight=self.entropy_weight)
        # The last decision's embedding feeds no step: it has no gradient.
        pairs = [(g, v) for g, v in zip(tape.gradient(loss, variables), variables)
                 if g is not None]
        self.optimizer.apply_gradients(pairs)
        return loss

    def learn(self, archs, rewards):
        """One controller update from the children `archs` and their `rewards`;
        returns ``{"loss": ..., "baseline": b used for the advantages}``."""
        rewards = np.asarray(rewards, np.float64)
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        baseline = self.baseline
        actions = tf.constant(np.stack([self.space.encode(a) for a in archs]), tf.int32)
        advantage = tf.constant(rewards - baseline, tf.float32)
        # PPO's θ_old; REINFORCE ignores the argument.
        old_log_prob = self._log_prob(actions) if self.algorithm == "ppo" else advantage
        for _ in range(self.ppo_epochs if self.algorithm == "ppo" else 1):
            loss = self._step(actions, advantage, old_log_prob)
        for reward in rewards:
            self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        return {"loss": float(loss), "baseline": baseline}

    def get_state(self):
        """NumPy arrays and a float: everything a resumed search needs."""
        return {"weights": self.controller.get_weights(),
                "optimizer": [np.asarray(v) for v in self.optimizer.variables],
                "baseline": self.baseline}

    def set_state(self, state):
        self.controller.set_weights(state["weights"])
        for variable, value in zip(self.optimizer.variables, state["optimizer"], strict=True):
            variable.assign(value)
        self.baseline = state["baseline"]
