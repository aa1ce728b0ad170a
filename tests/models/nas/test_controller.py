"""Controller: valid and seeded sampling, log-probabilities against a NumPy reference
written from the paper's definitions, initialisation, gradients, serialisation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.models.nas import ChoiceSpace, Controller, RecurrentCellSpace, SearchSpace
from tests.harness import assert_config_matches_signature, assert_outputs_close


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _log_softmax(z):
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def reference_log_prob(controller, actions):
    """Log-probability and entropy of one action vector, float64, from the
    definitions: a stack of LSTMs (Keras gate order i, f, c, o) stepping once per
    decision; softmax heads; anchors with sigmoid(vᵀ tanh(W_prev h_j + W_curr h_i))."""
    def w(v):
        return np.asarray(v, np.float64)

    cells = [[w(v) for v in cell.weights] for cell in controller.cells]
    heads = iter([(w(h.kernel), w(h.bias), w(e.embeddings))
                  for h, e in zip(controller.heads, controller.embeddings)])
    if any(d.choices is None for d in controller.space.decisions):  # anchor weights
        w_prev, w_curr = w(controller.w_prev.kernel), w(controller.w_curr.kernel)
        v = w(controller.v.kernel)[:, 0]
    units = controller.units
    states = [(np.zeros(units), np.zeros(units)) for _ in cells]
    x = w(controller.start)
    log_prob = entropy = 0.0
    anchors = []
    for d in controller.space.decisions:
        for k, (kernel, recurrent, bias) in enumerate(cells):
            h, c = states[k]
            z = x @ kernel + h @ recurrent + bias
            i, f, g, o = np.split(z, 4)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            states[k] = (h, c)
            x = h
        if d.choices is not None:
            kernel, bias, table = next(heads)
            log_p = _log_softmax(h @ kernel + bias)
            a = actions[d.offset]
            log_prob += log_p[a]
            entropy -= (np.exp(log_p) * log_p).sum()
            x = table[a]
            continue
        bits = actions[d.offset:d.offset + d.size]
        x = w(controller.image)
        for j, h_j in enumerate(anchors):
            p = _sigmoid(v @ np.tanh(w_prev.T @ h_j + w_curr.T @ h))
            log_prob += np.log(p if bits[j] else 1 - p)
            entropy -= p * np.log(p) + (1 - p) * np.log(1 - p)
        if d.size:
            x = (x + sum(b * a for b, a in zip(bits, anchors))) / (1 + bits.sum())
        anchors.append(h)
    return log_prob, entropy


def _rescaled(controller, scale, seed=0):
    """The controller's weights multiplied by random factors up to `scale`, so that
    its distributions are far from uniform."""
    rng = np.random.default_rng(seed)
    controller.set_weights([w * rng.uniform(-scale, scale, w.shape) for w in
                            controller.get_weights()])
    return controller


@pytest.mark.parametrize("space", [SearchSpace(4), SearchSpace(3, strides=(1, 2, 3),
                                                                skip_connections=False),
                                   ChoiceSpace([3, 1, 5, 2]), RecurrentCellSpace(2)],
                         ids=["skips", "chain-strides", "choices", "recurrent-cell"])
def test_log_prob_equals_direct_computation(space):
    controller = _rescaled(Controller(space, units=8, num_lstm_layers=2, seed=0), 60.0)
    archs, sampled_log_prob, sampled_entropy = controller.sample(5, seed=1)
    actions = np.stack([space.encode(a) for a in archs])
    log_prob, entropy = (keras.ops.convert_to_numpy(t) for t in controller(actions))
    expected = np.array([reference_log_prob(controller, a) for a in actions])
    # float32 through ~20 LSTM steps with O(1) activations: a few hundred float32
    # epsilons (1.2e-7) of each log-probability term, summed over ~20 terms.
    np.testing.assert_allclose(log_prob, expected[:, 0], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(entropy, expected[:, 1], rtol=1e-4, atol=1e-4)
    # Sampling and teacher forcing run the same computation on the same choices.
    np.testing.assert_allclose(sampled_log_prob, log_prob, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(sampled_entropy, entropy, rtol=1e-6, atol=1e-5)


def test_untrained_controller_is_nearly_uniform():
    # U(-0.08, 0.08) weights keep every logit within about 0.1 of 0: the 12 four-way
    # choices and 6 skip bits of a 4-layer space are close to uniform, entropy
    # 12 log 4 + 6 log 2 = 20.79 nats. A single sample's log-probability moves by
    # about 0.25 (18 terms of about 0.06); the mean of 64 by about 0.03.
    space = SearchSpace(4)
    uniform = 12 * np.log(4) + 6 * np.log(2)
    _, log_prob, entropy = Controller(space, seed=0).sample(64, seed=0)
    np.testing.assert_allclose(entropy, uniform, atol=0.05)
    np.testing.assert_allclose(log_prob.mean(), -uniform, atol=0.1)


def test_samples_are_valid_and_seeded():
    space = SearchSpace(4, strides=(1, 2, 3))
    controller = _rescaled(Controller(space, seed=3), 30.0)
    archs, _, _ = controller.sample(64, seed=5)
    for arch in archs:
        space.encode(arch)  # raises for an architecture outside the space
    again, _, _ = controller.sample(64, seed=5)
    other, _, _ = controller.sample(64, seed=6)
    assert again == archs
    assert other != archs
    twin = Controller(space, seed=3)
    assert all(np.array_equal(a, b) for a, b in
               zip(Controller(space, seed=3).get_weights(), twin.get_weights()))


def test_sampling_frequencies_follow_the_probabilities():
    # A space of 8 architectures: two 2-way choices and one skip bit.
    space = SearchSpace(2, filter_heights=(1, 3), filter_widths=(1,), num_filters=(4,))
    controller = _rescaled(Controller(space, units=6, seed=0), 40.0, seed=2)
    n = 6000
    archs, _, _ = controller.sample(n, seed=11)
    keys = sorted(set(archs), key=lambda a: space.encode(a).tolist())
    assert len(keys) > 2
    counts = np.array([archs.count(a) for a in keys]) / n
    probs = np.exp(keras.ops.convert_to_numpy(controller.log_prob(keys)[0]))
    # 5 standard deviations of a frequency over n draws.
    np.testing.assert_allclose(counts, probs, atol=5 * np.sqrt(0.25 / n))
    total = np.exp(keras.ops.convert_to_numpy(controller(np.stack(
        [np.array(bits) for bits in np.ndindex(2, 1, 1, 2, 1, 1, 2)]))[0])).sum()
    np.testing.assert_allclose(total, 1.0, rtol=1e-5)  # the 8 probabilities sum to 1


def test_initial_weights_are_uniform_in_the_papers_range():
    controller = Controller(SearchSpace(3), seed=0)
    values = np.concatenate([w.ravel() for w in controller.get_weights()])
    assert values.min() >= -0.08 and values.max() <= 0.08
    assert values.min() < -0.079 and values.max() > 0.079  # spread over the whole range
    assert abs(values.mean()) < 0.005  # 4 standard errors of U(-0.08, 0.08) over 7,000+


def test_gradients_reach_every_weight():
    space = SearchSpace(3)
    controller = Controller(space, units=8, seed=0)
    archs, _, _ = controller.sample(4, seed=0)
    actions = np.stack([space.encode(a) for a in archs])
    with tf.GradientTape() as tape:
        log_prob, entropy = controller(actions)
        loss = -keras.ops.mean(log_prob) - keras.ops.mean(entropy)
    grads = tape.gradient(loss, controller.trainable_variables)
    assert len(grads) == len(controller.trainable_variables) > 0
    assert all(g is not None and np.abs(tf.convert_to_tensor(g).numpy()).sum() > 0 for g in grads)


def test_serialisation_round_trip(tmp_path):
    space = SearchSpace(3, strides=(1, 2))
    controller = _rescaled(Controller(space, units=10, num_lstm_layers=1, seed=4), 10.0)
    assert_config_matches_signature(controller, {"units": 10, "num_lstm_layers": 1, "seed": 4})
    path = tmp_path / "controller.keras"
    controller.save(path)
    restored = keras.saving.load_model(path)
    assert restored.space == space
    actions = np.stack([space.encode(a) for a in controller.sample(3, seed=0)[0]])
    assert_outputs_close(controller(actions), restored(actions))  # weights copied: exact
    assert restored.sample(3, seed=9)[0] == controller.sample(3, seed=9)[0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="Expected a search space"):
        Controller("space")
    with pytest.raises(ValueError, match="units"):
        Controller(SearchSpace(2), units=0)
