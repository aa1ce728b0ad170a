"""`ConcreteVAE`: the categorical VAE of Jang et al. 2016 (Sec. 4.2), with Maddison et al.'s
relaxed KL as an option."""

import math

import keras
import tensorflow as tf

from keras_zoo.layers.relaxed_one_hot_categorical import RelaxedOneHotCategorical
from keras_zoo.models.loss_terms import LossTermsModel
from keras_zoo.ops import concrete

KL_TERMS = ("analytic", "relaxed")


def _mlp(inputs, units, name):
    x = keras.layers.Flatten(name=f"{name}_flatten")(inputs)
    for i, n in enumerate(units):
        x = keras.layers.Dense(n, activation="relu", name=f"{name}_dense{i}")(x)
    return x


def _bernoulli_log_likelihood(x, logits):
    """sum over pixels of log Bernoulli(x | sigmoid(logits)): ``[B, H, W, C] -> [B]``."""
    ll = -tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits)
    return tf.reduce_sum(tf.reshape(ll, [tf.shape(ll)[0], -1]), axis=-1)


@keras.saving.register_keras_serializable(package="keras_zoo")
class ConcreteVAE(LossTermsModel):
    """Discrete VAE with ``num_variables`` categorical latents of ``num_categories`` classes
    (Jang et al. 2016, Sec. 4.2: 20 x 10, uniform prior, Bernoulli likelihood, MLP
    encoder 512-256 and decoder 256-512 with ReLU).

    Training maximises the ELBO ``E_q[log p(x|z)] - KL`` with reparameterised
    Concrete samples ``z`` (`keras_zoo.ops.concrete.sample`), straight-through
    if ``straight_through``. The KL term is either

    - ``kl="analytic"`` (Jang): ``KL(Cat(q) || Uniform)``, exact for the
      discrete variables the relaxation stands for;
    - ``kl="relaxed"`` (Maddison Sec. 3.4, App. C): the one-sample estimate
      ``log q(y|x) - log p(y)`` of the relaxed posterior (temperature:
      the annealable sampler temperature) against a relaxed uniform prior at
      ``prior_temperature``, both as ExpConcrete densities.

    The loss terms (`LossTermsModel`) are ``reconstruction`` and ``kl``, their sum the
    negative ELBO. Evaluation (`evaluate`, ``test_step``) discretises as the papers
    do: z is a one-hot draw from ``Cat(q(z|x))``, so ``loss`` is the discretised
    negative ELBO (one draw, analytic KL), and it also reports ``iwae_nll``, the
    importance-weighted bound ``-log (1/k) sum_i p(x, z_i) / q(z_i|x)`` with
    ``k = iw_samples`` (k = 1000 in both papers; 0 skips it). Values are nats per image;
    training logs add the sampler's ``temperature``.

    The temperature lives in ``sampler.temperature_variable``;
    `keras_zoo.train.callbacks.TemperatureAnnealing` anneals it during `fit`.

    Args:
        num_variables: latent categorical variables N (Jang: 20).
        num_categories: classes per variable K (Jang: 10).
        image_shape: ``(H, W, C)`` of the binary images (MNIST: (28, 28, 1)).
        hidden_units: encoder layer widths; the decoder uses them reversed (Jang: 512, 256).
        temperature: initial sampler temperature (Jang: 1.0, annealed to 0.5;
            Maddison's best posterior temperature: 2/3).
        kl: ``"analytic"`` or ``"relaxed"``.
        prior_temperature: prior temperature of the relaxed KL; None uses the posterior's.
        straight_through: straight-through Gumbel-Softmax (Jang's "ST Gumbel-Softmax").
        iw_samples: k of the importance-weighted bound computed by `evaluate`.
        seed: int or None, seeds the samplers.
        **kwargs: `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: float ``[B, H, W, C]`` with values in {0, 1} (any real dtype).
        training: relaxed sample (True) or the posterior's argmax code (False).

    Returns:
        ``[B, H, W, C]`` Bernoulli means (reconstruction probabilities).

    Sub-models: ``encoder`` (images -> posterior logits ``[B, N, K]``) and
    ``decoder`` (codes ``[B, N, K]`` -> Bernoulli logits ``[B, H, W, C]``).

    Example:

    >>> vae = ConcreteVAE(4, 3, image_shape=(8, 8, 1), hidden_units=(16,), iw_samples=10)
    >>> vae.compile()
    >>> vae(keras.ops.zeros((2, 8, 8, 1))).shape
    TensorShape([2, 8, 8, 1])
    """

    def __init__(self, num_variables=20, num_categories=10, *, image_shape=(28, 28, 1),
                 hidden_units=(512, 256), temperature=1.0, kl="analytic",
                 prior_temperature=None, straight_through=False, iw_samples=1000, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if kl not in KL_TERMS:
            raise ValueError(f"Expected kl in {KL_TERMS}. Received: kl={kl!r}")
        if prior_temperature is not None and not prior_temperature > 0:
            raise ValueError("Expected prior_temperature > 0 or None. "
                             f"Received: prior_temperature={prior_temperature!r}")
        if int(num_variables) < 1 or int(num_categories) < 2:
            raise ValueError("Expected num_variables >= 1 and num_categories >= 2. Received: "
                             f"num_variables={num_variables}, num_categories={num_categories}")
        if int(iw_samples) < 0:
            raise ValueError(f"Expected iw_samples >= 0. Received: iw_samples={iw_samples}")
        self.num_variables = int(num_variables)
        self.num_categories = int(num_categories)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.temperature = float(temperature)
        self.kl = kl
        self.prior_temperature = None if prior_temperature is None else float(prior_temperature)
        self.straight_through = bool(straight_through)
        self.iw_samples = int(iw_samples)
        self.seed = seed

        n, k = self.num_variables, self.num_categories
        images = keras.Input(self.image_shape, name="images")
        h = _mlp(images, self.hidden_units, "encoder")
        logits = keras.layers.Reshape((n, k))(keras.layers.Dense(n * k, name="encoder_logits")(h))
        self.encoder = keras.Model(images, logits, name="encoder")
        codes = keras.Input((n, k), name="codes")
        h = _mlp(codes, self.hidden_units[::-1], "decoder")
        pixels = keras.layers.Dense(math.prod(self.image_shape), name="decoder_logits")(h)
        self.decoder = keras.Model(codes, keras.layers.Reshape(self.image_shape)(pixels),
                                   name="decoder")
        self.sampler = RelaxedOneHotCategorical(temperature, hard=straight_through,
                                                inference_output="argmax", seed=seed,
                                                name="sampler")
        self.eval_seed_generator = keras.random.SeedGenerator(
            None if seed is None else seed + 1)
        self.track_loss_terms(("reconstruction", "kl"),
                              evaluation=("iwae_nll",) if self.iw_samples else ())
        self.built = True  # the encoder and decoder are built functional models

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        logits = self.encoder(tf.cast(inputs, self.compute_dtype))
        return tf.sigmoid(self.decoder(self.sampler(logits, training=training)))

    def sample_prior(self, num_samples, seed=None):
        """Bernoulli means ``[num_samples, H, W, C]`` of codes drawn from the uniform prior."""
        idx = keras.random.randint((num_samples, self.num_variables), 0, self.num_categories,
                                   seed=seed)
        return tf.sigmoid(self.decoder(tf.one_hot(idx, self.num_categories)))

    # ------------------------------------------------------------------ objectives
    def elbo_terms(self, x, training=True):
        """Per-image ``(reconstruction, kl)`` in nats: ``-E_q log p(x|z)`` (one relaxed
        sample) and the configured KL term, both ``[B]``."""
        x = tf.cast(x, "float32")
        logits = tf.cast(self.encoder(x, training=training), "float32")
        tau = self.sampler.temperature_variable.value
        if self.kl == "analytic":
            z = self.sampler(logits, training=True)
            kl = tf.reduce_sum(concrete.categorical_kl_to_uniform(logits), axis=-1)
        else:
            log_z = concrete.exp_sample(logits, tau, seed=self.sampler.seed_generator.next())
            z = tf.exp(log_z)
            if self.straight_through:
                z = concrete.straight_through(
                    z, tf.one_hot(tf.argmax(z, -1), self.num_categories, dtype=z.dtype))
            prior_tau = tau if self.prior_temperature is None else self.prior_temperature
            kl = tf.reduce_sum(concrete.exp_log_prob(log_z, logits, tau)
                               - concrete.exp_log_prob(log_z, tf.zeros_like(logits), prior_tau),
                               axis=-1)
        x_logits = tf.cast(self.decoder(z, training=training), "float32")
        return -_bernoulli_log_likelihood(x, x_logits), kl

    def _discrete_codes(self, logits, num_samples):
        """``num_samples`` one-hot draws from Cat(softmax(logits)): ``[S, B, N, K]`` and
        their log q ``[S, B]``."""
        b = tf.shape(logits)[0]
        flat = tf.reshape(logits, [-1, self.num_categories])
        idx = keras.random.categorical(flat, num_samples, seed=self.eval_seed_generator)
        idx = tf.reshape(tf.transpose(idx), [num_samples, b, self.num_variables])
        z = tf.one_hot(idx, self.num_categories)
        log_q = tf.reduce_sum(z * tf.nn.log_softmax(logits)[None], axis=[-2, -1])
        return z, log_q

    def discrete_elbo_terms(self, x):
        """Per-image ``(reconstruction, kl)`` of the discretised ELBO ``[B]`` each: one
        categorical draw of z and the analytic KL."""
        x = tf.cast(x, "float32")
        logits = tf.cast(self.encoder(x), "float32")
        z, _ = self._discrete_codes(logits, 1)
        recon = -_bernoulli_log_likelihood(x, tf.cast(self.decoder(z[0]), "float32"))
        return recon, tf.reduce_sum(concrete.categorical_kl_to_uniform(logits), axis=-1)

    def negative_elbo(self, x):
        """Discretised negative ELBO per image ``[B]`` (one categorical draw, analytic KL)."""
        recon, kl = self.discrete_elbo_terms(x)
        return recon + kl

    def iwae_nll(self, x, num_samples=None, chunk=100):
        """Importance-weighted NLL bound per image ``[B]`` with k = ``num_samples`` discrete
        posterior draws (Burda et al. 2015; the k = 1000 evaluation of Jang / Maddison),
        decoded ``chunk`` draws at a time."""
        k = self.iw_samples if num_samples is None else int(num_samples)
        if k < 1:
            raise ValueError(f"Expected num_samples >= 1. Received: num_samples={k}")
        x = tf.cast(x, "float32")
        logits = tf.cast(self.encoder(x), "float32")
        b = tf.shape(x)[0]
        log_prior = -self.num_variables * math.log(self.num_categories)
        total = None
        for start in range(0, k, chunk):
            s = min(chunk, k - start)
            z, log_q = self._discrete_codes(logits, s)
            x_logits = self.decoder(tf.reshape(z, [s * b, self.num_variables,
                                                   self.num_categories]))
            x_rep = tf.tile(x, [s, 1, 1, 1])
            log_px = tf.reshape(_bernoulli_log_likelihood(x_rep, tf.cast(x_logits, "float32")),
                                [s, b])
            part = tf.reduce_logsumexp(log_px + log_prior - log_q, axis=0)
            total = part if total is None else tf.experimental.numpy.logaddexp(total, part)
        return -(total - math.log(k))

    # ------------------------------------------------------------------ fit / evaluate
    def compile(self, optimizer=None, **kwargs):
        """Adam with learning rate 1e-3 by default (Jang et al.'s released code)."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(1e-3)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)  # so saved optimizer state can load

    def loss_terms(self, x, y=None, training=True):
        """Batch means of the relaxed (training) or discretised (evaluation) ELBO's
        ``reconstruction`` and ``kl``; ``y`` is not used."""
        recon, kl = self.elbo_terms(x, training=True) if training else (
            self.discrete_elbo_terms(x))
        return {"reconstruction": tf.reduce_mean(recon), "kl": tf.reduce_mean(kl)}

    def evaluation_terms(self, x, y=None):
        return {"iwae_nll": tf.reduce_mean(self.iwae_nll(x))} if self.iw_samples else {}

    def train_step(self, data):
        logs = super().train_step(data)
        logs["temperature"] = tf.identity(self.sampler.temperature_variable.value)
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            num_variables=self.num_variables, num_categories=self.num_categories,
            image_shape=list(self.image_shape), hidden_units=list(self.hidden_units),
            temperature=self.temperature, kl=self.kl, prior_temperature=self.prior_temperature,
            straight_through=self.straight_through, iw_samples=self.iw_samples, seed=self.seed)
        return config
