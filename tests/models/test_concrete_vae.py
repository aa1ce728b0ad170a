"""ConcreteVAE (Jang et al. 2016 Sec. 4.2; Maddison et al. 2016): serialisation, the ELBO
terms against NumPy, the IWAE bound against exact enumeration, and a short learning run."""

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import models
from keras_zoo.train.datasets.binarized import load_binarized, make_binarized_pipeline
from tests.harness import assert_config_matches_signature, run_model_test
from tests.models.rounding import assert_close_up_to_rounding

SMALL = dict(image_shape=(8, 8, 1), hidden_units=(16,), iw_samples=7)


def _images(n=6, seed=0):
    return (np.random.default_rng(seed).random((n, 8, 8, 1)) < 0.3).astype(np.float32)


@pytest.mark.parametrize("kwargs", [
    dict(kl="analytic", straight_through=False, seed=1),
    dict(kl="relaxed", prior_temperature=0.5, temperature=2 / 3, straight_through=True, seed=2),
])
def test_round_trip_fit_and_config(kwargs, tmp_path):
    model = models.ConcreteVAE(3, 4, **SMALL, **kwargs)
    assert_config_matches_signature(model, dict(num_variables=3, num_categories=4, **kwargs))
    model.compile()
    x = _images()
    restored = run_model_test(model, x, x, tmp_path)
    assert restored.kl == kwargs["kl"] and restored.iw_samples == 7
    assert model.encoder.output_shape == (None, 3, 4)
    assert model.decoder.output_shape == (None, 8, 8, 1)
    # Inference is deterministic: the argmax code, decoded (a sampled code would move the
    # decoded means by far more than rounding).
    assert_close_up_to_rounding(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_annealed_temperature_and_optimizer_survive_saving(tmp_path):
    model = models.ConcreteVAE(3, 4, **SMALL)
    model.compile()
    model.fit(_images(), epochs=1, verbose=0)
    model.sampler.temperature_variable.assign(0.6)
    model.save(tmp_path / "vae.keras")
    restored = keras.saving.load_model(tmp_path / "vae.keras")
    assert float(restored.sampler.temperature_variable.numpy()) == pytest.approx(0.6)
    assert restored.compiled and int(restored.optimizer.iterations.numpy()) == 1


def test_analytic_kl_and_reconstruction_match_numpy():
    model = models.ConcreteVAE(3, 4, **SMALL, seed=0)
    x = _images()
    recon, kl = model.elbo_terms(x)
    logits = model.encoder(x).numpy().astype(np.float64)
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    np.testing.assert_allclose(kl.numpy(), (q * np.log(q * 4)).sum((-2, -1)), rtol=1e-5)
    assert (recon.numpy() > 0).all() and np.isfinite(recon.numpy()).all()


def test_iwae_bound_brackets_the_exact_likelihood():
    # N = 2 variables of K = 3 classes: 9 codes, so log p(x) is exact by enumeration.
    # IWAE (k = 2000; an upper bound on -log p(x) in expectation) is within 0.05 nats of it,
    # and the negative ELBO (mean of 200 draws) is above it.
    model = models.ConcreteVAE(2, 3, image_shape=(8, 8, 1), hidden_units=(16,),
                               iw_samples=2000, seed=3)
    x = _images(4, seed=1)
    codes = np.array([np.eye(3)[list(c)] for c in itertools.product(range(3), repeat=2)],
                     np.float32)
    probs = tf.sigmoid(model.decoder(codes)).numpy().astype(np.float64)  # [9, 8, 8, 1]
    log_px_z = (x[:, None] * np.log(probs[None]) + (1 - x[:, None]) * np.log1p(-probs[None]))
    log_px_z = log_px_z.reshape(len(x), 9, -1).sum(-1)
    m = log_px_z.max(-1, keepdims=True)
    exact_nll = -(m[:, 0] + np.log(np.exp(log_px_z - m).sum(-1)) - math.log(9))
    iwae = model.iwae_nll(x).numpy()
    np.testing.assert_allclose(iwae, exact_nll, atol=0.05)
    neg_elbo = np.mean([model.negative_elbo(x).numpy() for _ in range(200)], axis=0)
    assert (neg_elbo >= exact_nll - 0.05).all()


@pytest.mark.parametrize("kwargs,match", [
    (dict(kl="exact"), "kl"),
    (dict(prior_temperature=0.0), "prior_temperature"),
    (dict(num_categories=1), "num_categories"),
    (dict(iw_samples=-1), "iw_samples"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.ConcreteVAE(**{**SMALL, **kwargs})


@pytest.mark.large
@pytest.mark.parametrize("kl", ["analytic", "relaxed"])
def test_vae_learns_binarized_digits(kl):
    # Jang's 20 x 10 model on 8x8 thresholded digits: after 8 epochs the test negative
    # ELBO (discretised, nats per image) is at least 25 % below its value at init
    # (measured: 45.8 -> 23.3 for the analytic KL).
    data = load_binarized("digits")
    model = models.ConcreteVAE(image_shape=data.image_shape, hidden_units=(128, 64),
                               kl=kl, iw_samples=50, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    test = make_binarized_pipeline(data.x_test, batch_size=360, training=False)
    before = model.evaluate(test, verbose=0, return_dict=True)
    model.fit(make_binarized_pipeline(data.x_train, batch_size=100, training=True), epochs=8,
              shuffle=False, verbose=0)
    after = model.evaluate(test, verbose=0, return_dict=True)
    assert after["loss"] < 0.75 * before["loss"], (before, after)  # the negative ELBO
    assert after["iwae_nll"] <= after["loss"] + 0.5


def test_fit_under_mirrored_strategy(mirrored_strategy):
    # conftest splits the CPU into two logical devices.
    strategy = mirrored_strategy
    with strategy.scope():
        model = models.ConcreteVAE(3, 4, **SMALL, seed=0)
        model.compile()
    history = model.fit(_images(32), epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.isfinite(model.evaluate(_images(16), batch_size=8, verbose=0, return_dict=True)[
        "iwae_nll"])
