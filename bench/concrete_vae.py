"""Discrete VAE figures on binarised digits: test negative ELBO and IWAE NLL (k = 1000).

Trains `models.ConcreteVAE` (20 x 10 categorical latents, Jang et al. 2016 Sec. 4.2) with
the `concrete_vae` recipe (the one `keras-zoo train concrete-vae` uses) in three variants
and prints one JSON line each, in nats per 8x8 image, discretised at evaluation
(digits are thresholded, see `keras_zoo.train.datasets.binarized`), plus the NLL of
the best independent-pixel model (training-set pixel means) as a no-latent baseline:

- ``gumbel_softmax``: analytic KL, tau annealed 1 -> 0.5 (Jang);
- ``st_gumbel_softmax``: the same, straight-through (Jang's "ST Gumbel-Softmax");
- ``concrete_relaxed_kl``: relaxed KL (Maddison Sec. 3.4), fixed posterior temperature
  2/3 (Maddison's recommendation) and prior temperature 1/2 (our choice).

The papers' numbers are for 28x28 fixed-binarised MNIST, a different data set
(PAPERS.md): Jang Table 2 -ELBO 101.5 (GS) and 107.8 (ST GS); Maddison Table 1
test NLL 92.1 (200H~784V). Digits numbers are not comparable to them.

    python bench/concrete_vae.py --epochs 100
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_zoo import models  # noqa: E402
from keras_zoo.train import (
    datasets,  # noqa: E402
    recipes,  # noqa: E402
)

from _report import emit  # noqa: E402

VARIANTS = {
    "gumbel_softmax": {},
    "st_gumbel_softmax": {"straight_through": True},
    "concrete_relaxed_kl": {"kl": "relaxed", "initial_temperature": 2 / 3,
                            "min_temperature": 2 / 3, "prior_temperature": 0.5},
}
recipe = recipes.get("concrete_vae")
PAPER = {"gumbel_softmax": {"jang_table2_neg_elbo_mnist": 101.5},
         "st_gumbel_softmax": {"jang_table2_neg_elbo_mnist": 107.8},
         "concrete_relaxed_kl": {"maddison_table1_nll_mnist_200H-784V": 92.1}}


def run(name, overrides, epochs, iw_samples, seed):
    config = recipe.get_config()
    config.update(epochs=epochs, iw_samples=iw_samples, seed=seed)
    prior_temperature = overrides.pop("prior_temperature", None)
    config.update(overrides)
    keras.utils.set_random_seed(seed)
    data = datasets.load("digits")

    def builder(**kwargs):
        return models.ConcreteVAE(prior_temperature=prior_temperature, **kwargs)

    model = recipe.build_model(builder, data, config)
    recipe.compile_model(model, config, steps_per_epoch=None)
    inputs = recipe.make_datasets(data, config)
    train_ds, test_ds = inputs.train, inputs.test
    start = time.perf_counter()
    model.fit(train_ds, epochs=epochs, shuffle=False, verbose=0,
              callbacks=recipe.callbacks(config, has_validation=False))
    seconds = time.perf_counter() - start
    test = model.evaluate(test_ds, verbose=0, return_dict=True)
    return {"variant": name, "dataset": "digits 8x8 thresholded (360 test images)",
            "epochs": epochs, "iw_samples": iw_samples, "seed": seed,
            "test_neg_elbo": round(float(test["loss"]), 3),  # the discretised negative ELBO
            "test_iwae_nll": round(float(test["iwae_nll"]), 3),
            "final_temperature": float(model.sampler.temperature_variable.numpy()),
            "train_seconds": round(seconds, 1), "paper_mnist": PAPER[name]}


def independent_pixel_baseline():
    """Test NLL of Bernoulli pixels with the training set's per-pixel means (no latent)."""
    data = datasets.load("digits")
    config = {**recipe.get_config(), "seed": 0}
    inputs = recipe.make_datasets(data, config)
    test_ds = inputs.test
    x_train = np.concatenate(list(inputs.train.as_numpy_iterator()))
    mean = np.clip(x_train.mean(0), 1e-3, 1 - 1e-3)
    x_test = np.concatenate(list(test_ds.as_numpy_iterator()))
    nll = -(x_test * np.log(mean) + (1 - x_test) * np.log1p(-mean)).sum((1, 2, 3)).mean()
    return {"variant": "independent_pixels", "test_nll": round(float(nll), 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    emit(independent_pixel_baseline())
    for name in args.variants:
        emit(run(name, dict(VARIANTS[name]), args.epochs, args.iw_samples,
                 args.seed))


if __name__ == "__main__":
    main()
