"""`LossTermsModel`: training behaviour for models whose loss is a sum of named terms."""

import keras
import tensorflow as tf


class LossTermsModel(keras.Model):
    """Base class of models trained on a sum of named loss terms (Mask R-CNN's five,
    the Concrete VAE's reconstruction and KL): `train_step`, `test_step`,
    `compute_loss` and one mean metric per term, written once.

    A subclass implements ``loss_terms(x, y, training) -> {name: float32 scalar}``
    (the batch means of its terms; their sum, plus the layers' regularisation losses,
    is the loss) and calls ``self.track_loss_terms(names, evaluation=...)`` in its
    constructor. Optionally it implements ``evaluation_terms(x, y) -> {name: scalar}``
    for the names given as ``evaluation`` (values `evaluate` reports besides the loss,
    e.g. a tighter bound). `fit`, `evaluate`, `tf.distribute` strategies and
    keras_zoo's multi-worker loop all train through these methods.

    Losses follow Keras's convention under a distribution strategy: each replica's loss
    is divided by the number of replicas in sync, so the summed gradients are those of
    the global batch's mean; the metrics record the unscaled per-replica values.
    """

    def track_loss_terms(self, names, *, evaluation=()):
        """Creates the metrics: "loss", one per term of `names`, one per name of
        `evaluation` (recorded by `test_step` only)."""
        self._loss_term_names = tuple(names)
        self._evaluation_names = tuple(evaluation)
        self._trackers = {name: keras.metrics.Mean(name=name)
                          for name in ("loss", *self._loss_term_names, *self._evaluation_names)}

    def loss_terms(self, x, y=None, training=True):
        """``{name: float32 scalar}``, the batch means of the loss terms."""
        raise NotImplementedError

    def evaluation_terms(self, x, y=None):
        """``{name: float32 scalar}`` for the ``evaluation`` names of `track_loss_terms`."""
        return {}

    def total_loss(self, terms):
        """The sum of `terms` and of the layers' regularisation losses (unscaled)."""
        total = tf.add_n([tf.cast(value, tf.float32) for value in terms.values()])
        return total + tf.add_n(self.losses) if self.losses else total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch divided by the replicas in sync (Keras's convention);
        ``y_pred`` and ``sample_weight`` are not used."""
        terms = self.loss_terms(x, y, training=training)
        return self.total_loss(terms) / tf.distribute.get_strategy().num_replicas_in_sync

    @property
    def metrics(self):
        return list(self._trackers.values())

    def record_terms(self, total, terms):
        """Updates the metrics with a batch's total and terms; returns every metric's result."""
        self._trackers["loss"].update_state(total)
        for name, value in terms.items():
            self._trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self._trackers.items()
                if name in ("loss", *terms)}

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, y, training=True)
            total = self.total_loss(terms)
            scaled = self.optimizer.scale_loss(total / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self.record_terms(total, terms)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        terms = self.loss_terms(x, y, training=False)
        return self.record_terms(self.total_loss(terms),
                                 {**terms, **self.evaluation_terms(x, y)})
