"""RecurrentCell against a NumPy step written from Sec. 3.4's definition and from the
equations of TensorFlow's NASCell; LSTMCell-compatible behaviour in keras.layers.RNN
(masks, states, return_sequences, serialisation); a LanguageModel learns a tiny text."""

import keras
import numpy as np
import pytest

from keras_zoo.models.nas import CellArchitecture, LanguageModel, RecurrentCell
from tests.harness import assert_config_matches_signature, assert_outputs_close

ACT = {"identity": lambda z: z, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
       "sigmoid": lambda z: 1 / (1 + np.exp(-z))}

# Base 3: leaves 0, 1, 2; node 3 = (0, 1); root 4 = (3, 2). Every combination and
# activation appears; c_{t-1} joins leaf 1 (so it reaches node 3), c_t is node 3's
# pre-activation.
SMALL = CellArchitecture(3, ("add", "multiply", "add", "multiply", "add"),
                         ("tanh", "relu", "identity", "sigmoid", "tanh"),
                         inject_combination="multiply", inject_activation="sigmoid",
                         memory_node=3, inject_node=1)


def reference_step(arch, x, h, c, kernel, recurrent, bias):
    """One step in float64 from the definition: leaf i combines x W_i and h U_i + b_i,
    inner nodes their children, activation after each; inject after inject_node."""
    u = h.shape[-1]

    def combine(how, a, b):
        return a + b if how == "add" else a * b

    children = {3: (0, 1), 4: (3, 2)} if arch.base == 3 else None
    out, pre = {}, {}
    for node in range(arch.num_nodes):
        if node < arch.base:
            sl = slice(node * u, (node + 1) * u)
            a, b = x @ kernel[:, sl], h @ recurrent[:, sl] + bias[sl]
        else:
            a, b = (out[j] for j in children[node])
        pre[node] = combine(arch.combinations[node], a, b)
        out[node] = ACT[arch.activations[node]](pre[node])
        if node == arch.inject_node:
            out[node] = ACT[arch.inject_activation](combine(arch.inject_combination, out[node], c))
    return out[arch.num_nodes - 1], pre[arch.memory_node]


def nascell_step(x, h, c, kernel, recurrent):
    """TensorFlow's NASCell (tensorflow_addons.rnn.NASCell.call), no bias, written out."""
    sig, relu, tanh = ACT["sigmoid"], ACT["relu"], np.tanh
    xs, hs = np.split(x @ kernel, 8, axis=-1), np.split(h @ recurrent, 8, axis=-1)
    l1 = [sig(xs[0] + hs[0]), relu(xs[1] + hs[1]), sig(xs[2] + hs[2]), relu(xs[3] * hs[3]),
          tanh(xs[4] + hs[4]), sig(xs[5] + hs[5]), tanh(xs[6] + hs[6]), sig(xs[7] + hs[7])]
    l2 = [tanh(l1[0] * l1[1]), tanh(l1[2] + l1[3]), tanh(l1[4] * l1[5]), sig(l1[6] + l1[7])]
    l2[0] = tanh(l2[0] + c)
    new_c = l2[0] * l2[1]
    return tanh(new_c * tanh(l2[2] + l2[3])), new_c


def _step(cell, x, h, c):
    cell.build(x.shape)
    out, (new_h, new_c) = cell(x.astype("float32"), [h.astype("float32"), c.astype("float32")])
    return [keras.ops.convert_to_numpy(t) for t in (out, new_h, new_c)]


def test_one_step_equals_the_definition():
    rng = np.random.default_rng(0)
    x, h, c = rng.normal(size=(4, 5)), rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    cell = RecurrentCell(SMALL, 6, use_bias=True, bias_initializer="random_normal")
    out, new_h, new_c = _step(cell, x, h, c)
    weights = [np.asarray(w, np.float64) for w in cell.get_weights()]
    expected_h, expected_c = reference_step(SMALL, x, h, c, *weights)
    # float32 sums of 5-6 products of O(1) terms through 3 levels: 1e-5 holds them.
    np.testing.assert_allclose(out, expected_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_h, expected_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_c, expected_c, rtol=1e-5, atol=1e-5)


def test_the_named_cell_is_tensorflows_nascell():
    rng = np.random.default_rng(1)
    x, h, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    cell = RecurrentCell("nascell", 5)
    out, _, new_c = _step(cell, x, h, c)
    expected_h, expected_c = nascell_step(x, h, c, *(np.asarray(w, np.float64)
                                                     for w in cell.get_weights()))
    np.testing.assert_allclose(out, expected_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_c, expected_c, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("make_cell", [lambda: RecurrentCell("nascell", 4),
                                       lambda: keras.layers.LSTMCell(4)], ids=["nascell", "lstm"])
def test_masks_states_and_sequences_as_lstm_cell(make_cell):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    rnn = keras.layers.RNN(make_cell(), return_sequences=True, return_state=True)
    outputs, h, c = (keras.ops.convert_to_numpy(t) for t in rnn(x, mask=mask))
    assert outputs.shape == (2, 5, 4) and h.shape == c.shape == (2, 4)
    np.testing.assert_array_equal(h, outputs[:, -1])
    # Masked steps keep the state and repeat the last output (keras.layers.RNN's rule).
    np.testing.assert_array_equal(outputs[1, 3], outputs[1, 2])
    _, h3, c3 = (keras.ops.convert_to_numpy(t) for t in rnn(x[1:, :3]))
    np.testing.assert_allclose(h[1], h3[0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(c[1], c3[0], rtol=1e-6, atol=1e-6)
    # An initial state is used: continuing from step 3's state gives steps 4-5.
    tail, _, _ = rnn(x[:1, 3:], initial_state=[keras.ops.convert_to_numpy(t)[:1] for t in
                                                rnn(x[:1, :3])[1:]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tail)[0], outputs[0, 3:],
                               rtol=1e-5, atol=1e-6)


def test_serialisation_and_config(tmp_path):
    kwargs = dict(architecture=SMALL.to_dict(), units=3, use_bias=True,
                  kernel_initializer=keras.initializers.HeNormal(seed=1),
                  recurrent_initializer=keras.initializers.Orthogonal(seed=2),
                  bias_initializer=keras.initializers.Ones())
    cell = RecurrentCell(**kwargs)
    assert_config_matches_signature(cell, kwargs)
    inputs = keras.Input((4, 2))
    model = keras.Model(inputs, keras.layers.RNN(cell, return_sequences=True)(inputs))
    x = np.random.default_rng(3).normal(size=(2, 4, 2)).astype("float32")
    model.save(tmp_path / "cell.keras")
    restored = keras.saving.load_model(tmp_path / "cell.keras")
    assert_outputs_close(model(x), restored(x))
    assert RecurrentCell.from_config(cell.get_config()).cell == SMALL
    with pytest.raises(ValueError, match="cell name"):
        RecurrentCell("gru", 3)


def test_language_model_learns_a_tiny_text_and_round_trips(tmp_path):
    # "a b c d e" repeated: after training, each next word is near certain.
    tokens = np.tile(np.arange(5, dtype=np.int32), 40)
    x, y = tokens[:192].reshape(16, 12), tokens[1:193].reshape(16, 12)
    model = LanguageModel("nascell", vocabulary_size=5, units=8, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(0.02),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=30, batch_size=4, verbose=0).history["loss"]
    assert history[0] > 1.2  # log 5 = 1.61 for a uniform guess
    # The next word is fixed by the previous one, except at a window's first position
    # (zero states, no context): the floor is log 5 / 12 = 0.134.
    assert history[-1] < 0.2
    assert model.embedding.embeddings.shape == (5, 8)  # the tied softmax weights
    assert len(model.trainable_weights) == 1 + 2 * 2 + 1  # embedding, 2 cells, output bias
    kwargs = dict(architecture="lstm", vocabulary_size=7, units=4, num_layers=1, dropout=0.5,
                  seed=3)
    assert_config_matches_signature(LanguageModel(**kwargs), kwargs)
    model.save(tmp_path / "lm.keras")
    restored = keras.saving.load_model(tmp_path / "lm.keras")
    assert_outputs_close(model(x[:2]), restored(x[:2]))
