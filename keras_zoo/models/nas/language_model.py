"""`LanguageModel`: the word-level language model a recurrent cell is judged in (Sec. 4.2)."""

import keras
from keras import ops

from keras_zoo.checks import fraction, positive_int
from keras_zoo.models.nas.recurrent_cell import RecurrentCell, cell_architecture

INIT_SCALE = 0.1  # embedding (and tied softmax) weights U(-0.1, 0.1), as Zaremba et al. 2014


@keras.saving.register_keras_serializable(package="keras_zoo")
class LanguageModel(keras.Model):
    """Embedding, a stack of RNN layers of one cell, and a tied softmax.

    The child network of the recurrent-cell search (Zoph & Le 2016, Sec.
    4.2: a two-layer RNN language model on Penn Treebank): tokens are
    embedded in ``units`` dimensions, run through `num_layers`
    ``keras.layers.RNN`` layers of the cell (each its own weights), and the
    top outputs are scored against the same embedding matrix (weight tying,
    Inan et al. 2016; Press & Wolf 2016) plus a bias. Dropout, when set,
    acts on the embedding and on every RNN output (Zaremba et al. 2014).
    Every sequence starts from zero states.

    Args:
        architecture: a `CellArchitecture`, its dict, a cell name
            (``"nascell"``), or ``"lstm"`` for `keras.layers.LSTMCell` (the
            baseline of the same width).
        vocabulary_size: number of token ids.
        units: embedding size and cell width (tied: one number).
        num_layers: stacked RNN layers.
        dropout: drop rate of the embedding and the RNN outputs in training.
        seed: int seed of the initial weights and dropout masks (None: random).
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        tokens: int ``[B, T]`` token ids.
        training: dropout on.

    Returns:
        Logits ``[B, T, vocabulary_size]`` of the next token at each position.

    Example:

    >>> model = LanguageModel("nascell", vocabulary_size=50, units=8, seed=0)
    >>> model(np.zeros((2, 7), "int32")).shape
    (2, 7, 50)
    """

    def __init__(self, architecture, vocabulary_size, units=200, num_layers=2, dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(architecture, str):
            architecture = cell_architecture(architecture).to_dict()
        elif architecture != "lstm":
            cell_architecture(architecture)  # refuses an unknown name
        self.architecture = architecture
        self.vocabulary_size = positive_int("vocabulary_size", vocabulary_size)
        self.units = positive_int("units", units)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = fraction("dropout", dropout)
        self.seed = seed
        seeds = iter(range(1000))

        def init(cls, **kw):
            return cls(**kw, seed=None if seed is None else seed * 1000 + next(seeds))

        self.embedding = keras.layers.Embedding(
            vocabulary_size, units, name="embedding",
            embeddings_initializer=init(keras.initializers.RandomUniform, minval=-INIT_SCALE,
                                        maxval=INIT_SCALE))
        self.rnns = []
        for k in range(num_layers):
            kernels = dict(kernel_initializer=init(keras.initializers.GlorotUniform),
                           recurrent_initializer=init(keras.initializers.GlorotUniform))
            cell = keras.layers.LSTMCell(units, **kernels) if architecture == "lstm" else \
                RecurrentCell(architecture, units, **kernels)
            self.rnns.append(keras.layers.RNN(cell, return_sequences=True, name=f"rnn_{k}"))
        self.drop = keras.layers.Dropout(self.dropout, seed=None if seed is None else seed)
        self.output_bias = self.add_weight(shape=(vocabulary_size,), initializer="zeros",
                                           name="output_bias")

    def call(self, tokens, training=False):
        x = self.drop(self.embedding(tokens), training=training)
        for rnn in self.rnns:
            x = self.drop(rnn(x, training=training), training=training)
        logits = ops.einsum("btu,vu->btv", x, self.embedding.embeddings)
        return logits + self.output_bias

    def get_config(self):
        config = super().get_config()
        config.update({"architecture": self.architecture,
                       "vocabulary_size": self.vocabulary_size, "units": self.units,
                       "num_layers": self.num_layers, "dropout": self.dropout, "seed": self.seed})
        return config
