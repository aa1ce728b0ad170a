"""The Concrete (Gumbel-Softmax) distribution and its binary twin.

Maddison, Mnih & Teh, "The Concrete Distribution" (arXiv:1611.00712) and
Jang, Gu & Poole, "Categorical Reparameterization with Gumbel-Softmax"
(arXiv:1611.01144). Pure tensor functions, no Keras state.

A Concrete sample with class logits ``l`` (so ``alpha = exp(l)``) and
temperature ``tau`` is (Jang Eq. 2, Maddison Def. 1)::

    y_i = exp((l_i + g_i) / tau) / sum_j exp((l_j + g_j) / tau),   g_i ~ Gumbel(0, 1)

and its density on the simplex (Jang Eq. 3; Lebesgue measure on the first
K-1 coordinates, as for any density of a point on the simplex)::

    p(y) = Gamma(K) tau^(K-1) (sum_i alpha_i / y_i^tau)^(-K) prod_i alpha_i / y_i^(tau+1)

Every function computes in float32 (float64 stays float64) and returns the
dtype of its input, so float16/bfloat16 inputs neither overflow nor lose
the small probabilities of a low-temperature sample.

Seeds are stateless (`keras_zoo.ops.seeds`): ``seed`` is a ``[2]`` int
tensor (a layer passes ``seed_generator.next()`` of the
`keras.random.SeedGenerator` it owns, as `layers.RelaxedOneHotCategorical`
does), an int ``s`` (the seed ``[s, 0]``: the same noise on every call) or
None (a fresh seed from TensorFlow's global generator). For a ``[2]`` seed or
an int the noise equals what these functions drew before they took stateless
seeds, when they called ``keras.random.uniform`` with that SeedGenerator or
int; with None it does not (it came from Keras' global SeedGenerator then, from
TensorFlow's global seed now).
"""

import tensorflow as tf

from .seeds import stateless_seed

__all__ = [
    "sample",
    "exp_sample",
    "log_prob",
    "exp_log_prob",
    "binary_sample",
    "binary_log_prob",
    "categorical_kl_to_uniform",
    "straight_through",
]


def _compute_dtype(dtype):
    return tf.float64 if dtype == tf.float64 else tf.float32


def _as_float(x, name):
    x = tf.convert_to_tensor(x)
    if not x.dtype.is_floating:
        raise ValueError(
            f"Expected `{name}` to be a floating tensor. Received: {name}.dtype={x.dtype}")
    return x


def _temperature(temperature, dtype):
    """A temperature tensor broadcastable to the batch shape, with a trailing axis of size 1."""
    if isinstance(temperature, (int, float)) and not temperature > 0:
        raise ValueError(f"Expected a positive temperature. Received: temperature={temperature}")
    if isinstance(temperature, (int, float)):
        return tf.constant(temperature, dtype)  # tf.cast would round through float32
    return tf.cast(temperature, dtype)


def _cast(value, dtype):
    if isinstance(value, (int, float)):
        return tf.constant(value, dtype)  # tf.cast would round through float32
    return tf.cast(value, dtype)


def _uniform(shape, dtype, seed):
    # Open interval (0, 1): the smallest normal number keeps log(u) finite.
    tiny = float(tf.experimental.numpy.finfo(dtype.as_numpy_dtype).tiny)
    return tf.random.stateless_uniform(shape, stateless_seed(seed), minval=tiny, maxval=1.0,
                                       dtype=dtype)


def _gumbel(shape, dtype, seed):
    return -tf.math.log(-tf.math.log(_uniform(shape, dtype, seed)))


def _scaled_perturbed(logits, temperature, seed):
    """``(logits + g - max) / tau``: the maximum is subtracted first, so the largest entry
    is 0 and nothing overflows for any tau > 0 (the rest may reach -inf: weight 0)."""
    z = logits + _gumbel(tf.shape(logits), logits.dtype, seed)
    z = z - tf.stop_gradient(tf.reduce_max(z, axis=-1, keepdims=True))
    return z / _temperature(temperature, logits.dtype)[..., None]


def exp_sample(logits, temperature, *, seed=None):
    """Draws an ExpConcrete sample: the log of a Concrete sample (Maddison App. C.1).

    ``log y = (l + g) / tau - logsumexp((l + g) / tau)`` with Gumbel noise g.
    The maximum is subtracted before dividing by the temperature, so the
    result stays finite (the largest entry is 0) for any tau > 0.

    Args:
        logits: float ``[..., K]`` unnormalised class log-probabilities.
        temperature: positive scalar (float or tensor: a layer passes its temperature
            variable's value), or a tensor broadcastable to ``logits.shape[:-1]``.
        seed: ``[2]`` int tensor, int or None (see the module docstring).

    Returns:
        ``[..., K]`` log-probabilities (``logsumexp`` over the last axis is 0),
        in the dtype of ``logits``. For float16/bfloat16 logits, entries below
        the dtype's lowest finite value (possible at extreme temperatures)
        saturate to it rather than becoming -inf.
    """
    logits = _as_float(logits, "logits")
    dtype = _compute_dtype(logits.dtype)
    log_y = tf.nn.log_softmax(_scaled_perturbed(tf.cast(logits, dtype), temperature, seed),
                              axis=-1)
    if logits.dtype != dtype:  # saturate instead of overflowing to -inf in float16/bfloat16
        log_y = tf.maximum(log_y, float(logits.dtype.min))
    return tf.cast(log_y, logits.dtype)


def straight_through(soft, hard):
    """``hard`` forward, the gradient of ``soft`` backward (the straight-through estimator)."""
    # Forward: exactly `hard` (soft - stop_gradient(soft) is exactly 0);
    # backward: the identity onto `soft`.
    return hard + (soft - tf.stop_gradient(soft))


def sample(logits, temperature, *, seed=None, hard=False):
    """Draws a Concrete / Gumbel-Softmax sample on the simplex (Jang Eq. 2).

    ``y = softmax((logits + g) / temperature)``, ``g ~ Gumbel(0, 1)`` i.i.d.,
    computed stably like `exp_sample` (same noise for the same seed). As tau -> 0 samples approach
    one-hot vectors whose argmax follows ``softmax(logits)`` (the Gumbel-max
    trick); as tau -> inf they approach the uniform vector ``1/K``.

    Args:
        logits: float ``[..., K]`` unnormalised class log-probabilities.
        temperature: positive scalar (float or tensor: a layer passes its temperature
            variable's value), or a tensor broadcastable to ``logits.shape[:-1]``.
        seed: ``[2]`` int tensor, int or None (see the module docstring).
        hard: straight-through Gumbel-Softmax (Jang Sec. 2.2): the forward value is
            ``one_hot(argmax(y))``, the gradient is that of the soft sample ``y``.

    Returns:
        ``[..., K]`` in the dtype of ``logits``; each row is on the simplex.
    """
    logits = _as_float(logits, "logits")
    dtype = _compute_dtype(logits.dtype)
    y = tf.nn.softmax(_scaled_perturbed(tf.cast(logits, dtype), temperature, seed), axis=-1)
    if hard:
        one_hot = tf.one_hot(tf.argmax(y, axis=-1), tf.shape(y)[-1], dtype=dtype)
        y = straight_through(y, one_hot)
    return tf.cast(y, logits.dtype)


def exp_log_prob(log_x, logits, temperature):
    """Log-density of an ExpConcrete point ``log_x`` (Maddison App. C.1, Eq. 26).

    ``log p = log((K-1)!) + (K-1) log tau + sum_i (l_i - tau log_x_i)
    - K logsumexp_i(l_i - tau log_x_i)``

    This is the form Maddison et al. give and TFP's
    ``ExpRelaxedOneHotCategorical.log_prob`` computes; it equals
    ``log_prob(exp(log_x)) + sum_i log_x_i``. It never takes the log of an
    underflowed probability, so use it (for posterior and prior alike) for the
    relaxed KL term: the ratio of two such densities is the ratio of the
    Concrete densities, as the KL is invariant to the invertible log map.

    Args:
        log_x: float ``[..., K]`` log of a point on the simplex (e.g. from `exp_sample`).
        logits: float ``[..., K]``, broadcastable to ``log_x``; need not be normalised
            (the density is invariant to adding a constant to all logits).
        temperature: as in `sample`.

    Returns:
        ``[...]`` log-densities in the dtype of ``log_x``.
    """
    log_x = _as_float(log_x, "log_x")
    dtype = _compute_dtype(log_x.dtype)
    lx = tf.cast(log_x, dtype)
    logits = _cast(logits, dtype)
    tau = _temperature(temperature, dtype)
    k = tf.cast(tf.shape(lx)[-1], dtype)
    scores = logits - tau[..., None] * lx
    out = (tf.math.lgamma(k) + (k - 1.0) * tf.math.log(tau)
           + tf.reduce_sum(scores, axis=-1) - k * tf.reduce_logsumexp(scores, axis=-1))
    return tf.cast(out, log_x.dtype)


def log_prob(x, logits, temperature):
    """Log-density of a Concrete point ``x`` on the simplex (Jang Eq. 3, in log space).

    ``log p = log Gamma(K) + (K-1) log tau - K logsumexp_i(l_i - tau log x_i)
    + sum_i (l_i - (tau + 1) log x_i)``

    Entries of ``x`` that underflowed to 0 are clipped to the smallest normal
    number of the compute dtype; for low temperatures prefer `exp_sample` and
    `exp_log_prob`, which never leave log space.

    Args:
        x: float ``[..., K]`` point on the simplex.
        logits: float ``[..., K]``, broadcastable to ``x``; need not be normalised.
        temperature: as in `sample`.

    Returns:
        ``[...]`` log-densities in the dtype of ``x``.
    """
    x = _as_float(x, "x")
    dtype = _compute_dtype(x.dtype)
    tiny = float(tf.experimental.numpy.finfo(dtype.as_numpy_dtype).tiny)
    log_x = tf.math.log(tf.maximum(tf.cast(x, dtype), tiny))
    out = exp_log_prob(log_x, logits, temperature) - tf.reduce_sum(log_x, axis=-1)
    return tf.cast(out, x.dtype)


def binary_sample(logits, temperature, *, seed=None, hard=False):
    """Draws a binary Concrete (relaxed Bernoulli) sample (Maddison Sec. 3.3 / App. B).

    ``y = sigmoid((logits + log u - log(1 - u)) / temperature)``, ``u ~ U(0, 1)``:
    the K = 2 Concrete distribution written with the single logit
    ``log(alpha_1 / alpha_2)``. As tau -> 0, ``y`` tends to a Bernoulli
    sample with ``P(1) = sigmoid(logits)``.

    Args:
        logits: float ``[...]`` logit of the probability of 1.
        temperature: positive scalar (float or tensor: a layer passes its temperature
            variable's value), or a tensor broadcastable to ``logits``.
        seed: ``[2]`` int tensor, int or None (see the module docstring).
        hard: straight-through: forward ``y > 0.5`` as 0/1, gradient of the soft ``y``.

    Returns:
        ``[...]`` values in [0, 1], in the dtype of ``logits``.
    """
    logits = _as_float(logits, "logits")
    dtype = _compute_dtype(logits.dtype)
    l32 = tf.cast(logits, dtype)
    u = _uniform(tf.shape(l32), dtype, seed)
    noise = tf.math.log(u) - tf.math.log1p(-u)
    y = tf.sigmoid((l32 + noise) / _temperature(temperature, dtype))
    if hard:
        y = straight_through(y, tf.cast(y > 0.5, dtype))
    return tf.cast(y, logits.dtype)


def binary_log_prob(x, logits, temperature):
    """Log-density of a binary Concrete point ``x`` in (0, 1) (Maddison Eq. 7 / App. B).

    ``p(x) = tau alpha x^(-tau-1) (1-x)^(-tau-1) / (alpha x^(-tau) + (1-x)^(-tau))^2``
    with ``alpha = exp(logits)``, computed through ``t = log x - log(1 - x)`` as
    ``log tau + l - tau t - 2 softplus(l - tau t) - log x - log(1 - x)``.

    Args:
        x: float ``[...]`` values in (0, 1); values at 0 or 1 are clipped to the
            nearest representable interior point of the compute dtype.
        logits: float, broadcastable to ``x``.
        temperature: positive scalar or tensor broadcastable to ``x``.

    Returns:
        ``[...]`` log-densities in the dtype of ``x``.
    """
    x = _as_float(x, "x")
    dtype = _compute_dtype(x.dtype)
    tiny = float(tf.experimental.numpy.finfo(dtype.as_numpy_dtype).tiny)
    x32 = tf.cast(x, dtype)
    log_x = tf.math.log(tf.maximum(x32, tiny))
    log_1mx = tf.math.log(tf.maximum(1.0 - x32, tiny))
    tau = _temperature(temperature, dtype)
    l32 = _cast(logits, dtype)
    score = l32 - tau * (log_x - log_1mx)
    out = tf.math.log(tau) + score - 2.0 * tf.math.softplus(score) - log_x - log_1mx
    return tf.cast(out, x.dtype)


def categorical_kl_to_uniform(logits):
    """KL(Categorical(softmax(logits)) || Uniform(K)), ``[..., K] -> [...]``.

    ``sum_k q_k (log q_k + log K)``: the analytic KL term of Jang et al.'s
    categorical VAE (Sec. 4.2, uniform prior).
    """
    logits = _as_float(logits, "logits")
    dtype = _compute_dtype(logits.dtype)
    log_q = tf.nn.log_softmax(tf.cast(logits, dtype), axis=-1)
    k = tf.cast(tf.shape(log_q)[-1], dtype)
    out = tf.reduce_sum(tf.exp(log_q) * (log_q + tf.math.log(k)), axis=-1)
    return tf.cast(out, logits.dtype)

