"""`LanguageModelTrainer`: the recurrent-cell search's reward, a language model trained by `fit`."""

import json
import math

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.checks import positive_int
from keras_zoo.models.nas import LanguageModel
from keras_zoo.models.nas.recurrent_cell import cell_architecture
from keras_zoo.train import datasets
from keras_zoo.train.fit import fit_model
from keras_zoo.train.nas.child_trainer import mix_seed
from keras_zoo.train.nas.epoch_batches import epoch_batches

REWARD_CONSTANT = 80.0  # Sec. 4.2: reward c / (validation perplexity)^2, c usually 80


class LanguageModelTrainer:
    """Trains a `LanguageModel` of a cell; its reward is c / (validation perplexity)^2.

    ``trainer(arch)`` builds ``LanguageModel(arch, ...)`` (embedding, a
    `num_layers`-layer RNN of the cell, tied softmax), trains it with
    `model.fit` for `epochs` epochs on windows of `steps` tokens of
    ``corpus.train`` (every window from zero states, the windows shuffled
    each epoch) and returns as reward ``c / p^2`` with p the validation
    perplexity after the last epoch (Zoph & Le 2016, Sec. 4.2). The test
    text is never read. The optimiser is Adam with a clipped global gradient
    norm (ours: the paper does not give its child optimiser).

    Weights, dropout masks and batch order follow from `seed` and the
    architecture's JSON, so one cell always gets one reward. The object is
    plain data (token arrays and numbers), so it pickles to worker processes.

    Args:
        corpus: a `TextCorpus` (`text_corpus.load_text`).
        units: embedding size and cell width.
        num_layers: RNN layers (Sec. 4.2: two).
        steps: tokens per training window (truncated back-propagation).
        epochs: training epochs per child.
        batch_size: windows per batch.
        learning_rate: Adam's learning rate.
        clip_norm: the global gradient norm is clipped to this.
        dropout: `LanguageModel` dropout.
        reward_constant: c.
        seed: int seed of every child.
        verbose: `model.fit`'s verbosity.
    """

    def __init__(self, corpus, *, units=64, num_layers=2, steps=35, epochs=1, batch_size=20,
                 learning_rate=0.003, clip_norm=5.0, dropout=0.0, reward_constant=REWARD_CONSTANT,
                 seed=0, verbose=0):
        for name, value in (("units", units), ("num_layers", num_layers), ("steps", steps),
                            ("epochs", epochs), ("batch_size", batch_size)):
            positive_int(name, value)
        self.corpus = corpus
        self.units = units
        self.num_layers = num_layers
        self.steps = steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.clip_norm = clip_norm
        self.dropout = dropout
        self.reward_constant = reward_constant
        self.seed = int(seed)
        self.verbose = verbose

    def child_seed(self, arch):
        """The seed of `arch`'s weights, dropout and batches."""
        text = arch if arch == "lstm" else json.dumps(cell_architecture(arch).to_dict(),
                                                      sort_keys=True)
        return mix_seed(self.seed, text)

    def build(self, arch):
        """The compiled, untrained `LanguageModel` of `arch` (a cell or ``"lstm"``)."""
        model = LanguageModel(arch, self.corpus.vocabulary_size, units=self.units,
                              num_layers=self.num_layers, dropout=self.dropout,
                              seed=self.child_seed(arch))
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate,
                                                      global_clipnorm=self.clip_norm),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    def perplexity(self, model, split):
        """exp(mean cross-entropy per token) of `model` on a split's windows."""
        x, y = self.corpus.windows(split, self.steps)
        loss = model.evaluate(x, y, batch_size=256, verbose=0)
        return math.exp(loss)

    def train(self, arch, *, epochs=None, validation=True, backup_dir=None, callbacks=()):
        """Builds and fits the model of `arch`; returns ``(model, history)``. With
        `backup_dir`, resumes from its backup (`fit.fit_model`, kept when training ends)."""
        epochs = epochs or self.epochs
        x, y = self.corpus.windows("train", self.steps)
        batches, steps = epoch_batches(x, y, batch_size=self.batch_size, epochs=epochs,
                                       seed=self.child_seed(arch))
        val = None
        if validation:
            val = tf.data.Dataset.from_tensor_slices(self.corpus.windows("valid", self.steps))
            val = val.batch(256)
        model = self.build(arch)
        history = fit_model(model, datasets.Inputs(train=batches, validation=val,
                                                   steps_per_epoch=steps),
                            epochs=epochs, backup_dir=backup_dir, keep_backup=True,
                            callbacks=callbacks, verbose=self.verbose)
        return model, history

    def __call__(self, arch):
        """Trains `arch`'s model and returns ``{"reward", "val_perplexity",
        "val_perplexities", "params"}``."""
        model, history = self.train(arch)
        perplexities = [float(np.exp(loss)) for loss in history["val_loss"]]
        perplexity = perplexities[-1]
        if not math.isfinite(perplexity):
            raise ValueError(f"Expected a finite validation perplexity. Received: {perplexities}")
        return {"reward": self.reward_constant / perplexity**2, "val_perplexity": perplexity,
                "val_perplexities": perplexities, "params": int(model.count_params())}
