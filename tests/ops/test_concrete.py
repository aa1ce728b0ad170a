"""keras_zoo.ops.concrete against the papers' definitions (Jang Eq. 2-3, Maddison App. B-C).

Statistical tests are seeded (deterministic) and state their tolerance; the
density is checked against a NumPy transcription of Jang Eq. 3 that uses
`math.lgamma` and the non-log formula, and by numerical integration. Exact
comparisons are kept only for contracts: the same stateless seed gives the same
noise in one process, and a straight-through sample is exactly one-hot
(``one_hot + (y - y)``, where ``y - y`` is exactly 0).
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import concrete

LOGITS = np.array([1.0, 0.0, -1.0, 0.5, 2.0], np.float32)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _chi_square(counts, probs):
    expected = probs * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def test_gumbel_max_argmax_follows_softmax():
    # 40000 draws of 5 classes; chi-square with 4 degrees of freedom, critical value
    # 18.47 at p = 0.001 (the test is seeded, so it is deterministic).
    n = 40000
    logits = np.broadcast_to(LOGITS, (n, 5))
    y = concrete.sample(logits, 0.7, seed=7).numpy()
    counts = np.bincount(y.argmax(-1), minlength=5)
    assert _chi_square(counts, _softmax(LOGITS)) < 18.47


@pytest.mark.parametrize("temperature", [1e-30, 0.01, 0.5, 1.0, 10.0])
def test_samples_lie_on_the_simplex(temperature):
    y = concrete.sample(np.broadcast_to(LOGITS, (2000, 5)), temperature, seed=3).numpy()
    assert np.isfinite(y).all()
    assert (y >= 0).all() and (y <= 1).all()
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("dtype,atol", [("float16", 2e-3), ("bfloat16", 1e-2)])
def test_low_precision_inputs_stay_finite_and_keep_dtype(dtype, atol):
    logits = tf.cast(np.broadcast_to(LOGITS * 30.0, (500, 5)), dtype)
    for temperature in (1e-4, 0.5, 100.0):
        y = concrete.sample(logits, temperature, seed=1)
        assert y.dtype == dtype
        y = tf.cast(y, "float32").numpy()
        assert np.isfinite(y).all()
        np.testing.assert_allclose(y.sum(-1), 1.0, atol=atol)
        log_y = concrete.exp_sample(logits, temperature, seed=1)
        assert log_y.dtype == dtype
        density = concrete.exp_log_prob(log_y, logits, temperature)
        assert density.dtype == dtype and np.isfinite(tf.cast(density, "float32").numpy()).all()


def test_low_temperature_gives_near_one_hot_samples():
    # At tau = 1e-3 the top entry is below 0.99 only if the two largest perturbed
    # logits are within tau * log(99 * 4) ~ 0.006 of each other: well under 2 %.
    y = concrete.sample(np.broadcast_to(LOGITS, (5000, 5)), 1e-3, seed=5).numpy()
    assert (y.max(-1) > 0.99).mean() > 0.98
    # At tau = 1e-30 the other entries underflow to exactly 0, so the top entry is
    # exp(0) / exp(0): 1 in exact arithmetic, but TF's vectorised exp may round exp(0)
    # differently in its two uses (AVX2: 0.99999994 = 1 - eps/2). Allow 4 eps.
    exact = concrete.sample(np.broadcast_to(LOGITS, (100, 5)), 1e-30, seed=5).numpy()
    np.testing.assert_allclose(np.sort(exact, -1)[:, -1], 1.0, rtol=0,
                               atol=4 * np.finfo(np.float32).eps)


def test_high_temperature_gives_near_uniform_samples():
    # At tau = 1000 each entry is 1/K * exp(O(|l + g| / 1000)): within 0.01 of 0.2.
    y = concrete.sample(np.broadcast_to(LOGITS, (5000, 5)), 1000.0, seed=5).numpy()
    assert np.abs(y - 0.2).max() < 0.01


def test_stateless_seeds_repeat_and_int_means_seed_s_0():
    a = concrete.sample(LOGITS, 1.0, seed=11).numpy()
    np.testing.assert_array_equal(a, concrete.sample(LOGITS, 1.0, seed=11).numpy())
    np.testing.assert_array_equal(a, concrete.sample(LOGITS, 1.0, seed=[11, 0]).numpy())
    b = concrete.sample(LOGITS, 1.0, seed=tf.constant([11, 1])).numpy()
    assert not np.allclose(a, b)
    # None: a fresh seed per call from TF's global generator, repeatable after set_seed.
    tf.random.set_seed(3)
    first = [concrete.sample(LOGITS, 1.0).numpy() for _ in range(2)]
    tf.random.set_seed(3)
    again = [concrete.sample(LOGITS, 1.0).numpy() for _ in range(2)]
    assert not np.allclose(first[0], first[1])
    np.testing.assert_array_equal(first, again)
    for bad in (True, 1.5, [1, 2, 3], tf.constant([1.0, 2.0])):
        with pytest.raises(ValueError, match="Expected seed"):
            concrete.sample(LOGITS, 1.0, seed=bad)


@pytest.mark.parametrize("sampler", ["sample", "binary_sample"])
def test_seed_generator_next_draws_what_keras_random_drew(sampler):
    """A layer's `seed_generator.next()` gives the noise the ops drew when they took the
    SeedGenerator itself (`keras.random.uniform(..., seed=generator)`, before the ops
    became stateless), so seeded layers and models sample as before."""
    tiny = float(np.finfo(np.float32).tiny)
    logits = np.broadcast_to(LOGITS, (8, 5))
    state = np.array([2**40 + 7, 3], np.int64)  # an int64 state, reduced as Keras does
    ours, theirs = keras.random.SeedGenerator(0), keras.random.SeedGenerator(0)
    ours.state.assign(state)
    theirs.state.assign(state)
    for _ in range(2):  # the generators advance alike
        u = keras.random.uniform(logits.shape, minval=tiny, maxval=1.0, seed=theirs).numpy()
        if sampler == "sample":
            got = concrete.sample(logits, 0.5, seed=ours.next()).numpy()
            z = (logits - np.log(-np.log(u))) / 0.5
            want = _softmax(z)
        else:
            got = concrete.binary_sample(logits, 0.5, seed=ours.next()).numpy()
            want = 1.0 / (1.0 + np.exp(-(logits + np.log(u) - np.log1p(-u)) / 0.5))
        # Same uniforms, float32 formulas evaluated in a different order: a few ulps of
        # values in [0, 1] (|Gumbel| < 90 for u >= tiny, amplified by 1 / tau = 2).
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_temperature_may_be_a_variable_and_must_be_positive():
    tau = tf.Variable(0.5, trainable=False)
    a = concrete.sample(LOGITS, tau, seed=2).numpy()
    np.testing.assert_allclose(a, concrete.sample(LOGITS, 0.5, seed=2).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="Expected a positive temperature"):
        concrete.sample(LOGITS, 0.0)
    with pytest.raises(ValueError, match="floating"):
        concrete.sample(np.array([1, 2]), 1.0)


def _jang_eq3(x, logits, tau):
    """Jang et al. Eq. 3 transcribed literally (normalised alpha, no log space), float64."""
    alpha = _softmax(np.asarray(logits, np.float64))
    k = len(x)
    total = sum(alpha[i] / x[i] ** tau for i in range(k))
    prod = 1.0
    for i in range(k):
        prod *= alpha[i] / x[i] ** (tau + 1.0)
    return math.exp(math.lgamma(k)) * tau ** (k - 1) * total ** (-k) * prod


@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_log_prob_matches_a_numpy_transcription_of_jang_eq3(tau):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=4)
    x = rng.dirichlet(np.ones(4), size=50)
    expected = np.log([_jang_eq3(row, logits, tau) for row in x])
    got64 = concrete.log_prob(x, logits, tau).numpy()
    np.testing.assert_allclose(got64, expected, rtol=1e-10, atol=1e-10)
    got32 = concrete.log_prob(x.astype(np.float32), logits.astype(np.float32), tau).numpy()
    np.testing.assert_allclose(got32, expected, rtol=1e-4, atol=1e-4)
    # ExpConcrete density (Maddison Eq. 26) = Concrete density + sum(log x).
    exp_form = concrete.exp_log_prob(np.log(x), logits, tau).numpy()
    np.testing.assert_allclose(exp_form, expected + np.log(x).sum(-1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("logit_gap,tau", [(0.0, 1.0), (1.5, 0.5), (-2.0, 0.3), (0.7, 3.0)])
def test_k2_density_integrates_to_one(logit_gap, tau):
    # Integrate over t = logit(x1) (dx1 = x1 x2 dt): the integrand then decays like
    # exp(-tau |t|), so t in [-80/tau, 80/tau] holds all but e^-80 of the mass.
    t = np.linspace(-80.0 / tau, 80.0 / tau, 400001)
    x1 = 1.0 / (1.0 + np.exp(-t))
    x = np.stack([x1, 1.0 - x1], -1)
    x[:, 1] = 1.0 / (1.0 + np.exp(t))  # precise small x2 for large t
    log_p = concrete.log_prob(x, np.array([logit_gap, 0.0]), tau).numpy()
    integrand = np.exp(log_p + np.log(x[:, 0]) + np.log(x[:, 1]))
    np.testing.assert_allclose(np.trapezoid(integrand, t), 1.0, atol=1e-6)
    # The binary Concrete density is the same density written in x1 alone.
    binary = concrete.binary_log_prob(x[:, 0], logit_gap, tau).numpy()
    mask = np.abs(t) < 10.0  # where 1 - x1, recomputed from x1, keeps ~13 digits
    np.testing.assert_allclose(binary[mask], log_p[mask], rtol=1e-9, atol=1e-9)


def test_samples_follow_the_density():
    # K = 2 samples histogrammed in logit(x1) bins against the integrated density:
    # chi-square over 20 bins (19 dof), critical value 43.8 at p = 0.001.
    logit_gap, tau, n = 0.8, 0.6, 20000
    y = concrete.sample(np.broadcast_to(np.array([logit_gap, 0.0]), (n, 2)), tau, seed=9)
    t = np.log(y.numpy()[:, 0]) - np.log(y.numpy()[:, 1])
    edges = np.concatenate([[-np.inf], np.linspace(-6.0, 8.0, 19), [np.inf]])
    counts = np.histogram(t, edges)[0]
    grid = np.linspace(-200.0, 200.0, 800001)
    x1 = 1.0 / (1.0 + np.exp(-grid))
    x = np.stack([x1, 1.0 / (1.0 + np.exp(grid))], -1)
    log_p = concrete.log_prob(x, np.array([logit_gap, 0.0]), tau).numpy()
    pdf_t = np.exp(log_p + np.log(x[:, 0]) + np.log(x[:, 1]))
    cdf = np.concatenate([[0.0], np.cumsum((pdf_t[1:] + pdf_t[:-1]) / 2 * np.diff(grid))])
    probs = np.diff(np.interp(np.clip(edges, -200, 200), grid, cdf))
    assert _chi_square(counts, probs / probs.sum()) < 43.8


def test_hard_is_one_hot_forward_with_the_soft_gradient():
    logits = tf.constant(np.broadcast_to(LOGITS, (64, 5)))
    weights = tf.constant(np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32))
    grads = {}
    for hard in (False, True):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            y = concrete.sample(logits, 0.5, seed=4, hard=hard)
            loss = tf.reduce_sum(weights * y)
        grads[hard] = tape.gradient(loss, logits).numpy()
        if hard:
            y = y.numpy()
            assert set(np.unique(y)) == {0.0, 1.0}
            np.testing.assert_array_equal(y.sum(-1), 1.0)
            soft = concrete.sample(logits, 0.5, seed=4).numpy()
            np.testing.assert_array_equal(y.argmax(-1), soft.argmax(-1))
    assert np.abs(grads[True]).max() > 1e-3
    np.testing.assert_allclose(grads[True], grads[False], rtol=1e-6, atol=1e-7)


def test_gradients_stay_finite_at_low_temperature():
    logits = tf.constant(np.broadcast_to(LOGITS, (256, 5)))
    with tf.GradientTape() as tape:
        tape.watch(logits)
        log_y = concrete.exp_sample(logits, 1e-3, seed=4)
        loss = tf.reduce_sum(concrete.exp_log_prob(log_y, logits, 1e-3))
    assert np.isfinite(tape.gradient(loss, logits).numpy()).all()


def test_binary_sample_is_bernoulli_at_threshold():
    # P(y > 0.5) = sigmoid(logit) for any temperature; 4-sigma binomial interval.
    n = 40000
    for logit in (-1.0, 0.3, 2.0):
        y = concrete.binary_sample(np.full(n, logit, np.float32), 0.5, seed=6).numpy()
        assert ((y >= 0) & (y <= 1)).all()
        p = 1.0 / (1.0 + math.exp(-logit))
        assert abs((y > 0.5).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
        hard = concrete.binary_sample(np.full(n, logit, np.float32), 0.5, seed=6, hard=True)
        np.testing.assert_array_equal(hard.numpy(), (y > 0.5).astype(np.float32))


def test_binary_log_prob_matches_maddison_formula():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.01, 0.99, size=100)
    logit, tau = 0.4, 0.7
    alpha = math.exp(logit)
    expected = np.log(tau * alpha * x ** (-tau - 1) * (1 - x) ** (-tau - 1)
                      / (alpha * x ** (-tau) + (1 - x) ** (-tau)) ** 2)
    np.testing.assert_allclose(concrete.binary_log_prob(x, logit, tau).numpy(), expected,
                               rtol=1e-10)


def test_categorical_kl_to_uniform():
    q = _softmax(LOGITS.astype(np.float64))
    expected = float((q * np.log(q * 5)).sum())
    np.testing.assert_allclose(concrete.categorical_kl_to_uniform(LOGITS.astype(np.float64)),
                               expected, rtol=1e-12)
    np.testing.assert_allclose(concrete.categorical_kl_to_uniform(np.zeros(5)), 0.0, atol=1e-12)


def test_exp_concrete_kl_estimate_matches_the_concrete_kl():
    # Maddison App. C: the KL between relaxed posterior and prior may be estimated with
    # ExpConcrete densities (KL is invariant to the log map). K = 2: the Monte Carlo mean
    # of log q - log p over 100000 ExpConcrete draws vs the KL integrated numerically from
    # the Concrete densities, within 4 standard errors.
    lq, tq, tp = np.array([0.8, 0.0]), 2 / 3, 0.5
    log_z = concrete.exp_sample(np.broadcast_to(lq, (100000, 2)), tq, seed=12)
    est = (concrete.exp_log_prob(log_z, lq, tq) - concrete.exp_log_prob(log_z, np.zeros(2), tp))
    est = est.numpy()
    t = np.linspace(-300.0, 300.0, 600001)
    x = np.stack([1 / (1 + np.exp(-t)), 1 / (1 + np.exp(t))], -1)
    log_jac = np.log(x[:, 0]) + np.log(x[:, 1])
    log_q = concrete.log_prob(x, lq, tq).numpy() + log_jac
    log_p = concrete.log_prob(x, np.zeros(2), tp).numpy() + log_jac
    exact = np.trapezoid(np.exp(log_q) * (log_q - log_p), t)
    assert abs(est.mean() - exact) < 4 * est.std() / np.sqrt(len(est))
    assert exact > 0
