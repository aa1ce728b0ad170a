"""Jang, Gu & Poole 2016 (arXiv:1611.01144), Sec. 4.2: the categorical VAE.

Command (no download: scikit-learn's digits, binarised at 8x8):

    keras-zoo train concrete-vae                       # digits, 100 epochs, ~1 min on CPU
    keras-zoo train concrete-vae --dataset mnist --data-dir DIR_WITH_IDX_FILES

Expected: the papers report on fixed-binarised MNIST (28x28, 1000-sample
bound): Jang Table 2 negative ELBO 101.5 (Gumbel-Softmax) and 107.8 (ST
Gumbel-Softmax); Maddison Table 1 (200H~784V, m=1) test NLL 92.1. Digits
are a different, far smaller problem (64 thresholded pixels, 1,437 training
images): measured after 100 epochs (seed 0), test negative ELBO 20.1 nats
and IWAE NLL 16.6 nats (k = 1000), against 23.2 nats for the best
independent-pixel model (bench/concrete_vae.py).

Recipe: 20 categorical variables x 10 classes, MLP 512-256 / 256-512 with
ReLU, uniform prior, Bernoulli likelihood, analytic KL, Adam lr 1e-3,
batch 100 (Jang's released code); temperature tau = max(0.5, exp(-r t))
(Sec. 4.2). Jang updates it every N in {500, 1000} steps with r in {1e-5,
1e-4} over ~100k steps; a digits run has only ~1,500 steps, so the schedule
here is N = 100, r = 5e-4 (tau reaches 0.5 at step 1,400). Evaluation
discretises z and reports ``loss`` (the negative ELBO; ``reconstruction`` and ``kl``,
its terms) and ``iwae_nll`` with k = 1000 (both papers). Binarisation
(`datasets.binarized`): MNIST fixed (one seeded Bernoulli draw, as the papers), digits
thresholded at 0.5 (their grey
pixels would make a Bernoulli draw mostly noise; see that module). The run
directory gets ``samples.png``: test images, their reconstructions (argmax
code) and samples from the prior.
``tiny=True``: 2 epochs, k = 20. No uint8 classifier signature: the run
exports its encoder and decoder as two artifacts (`ConcreteVAERecipe.artifacts`,
``keras-zoo export RUN_DIR``), not a SavedModel at the end of training.
"""

import os

import keras
import numpy as np

from keras_zoo.train.atomic_files import atomic_path
from keras_zoo.train.callbacks import TemperatureAnnealing
from keras_zoo.train.datasets import Examples, Inputs, binarized

from .artifact import Artifact
from .recipe import Recipe


def _pool(data):
    return binarized.DEFAULT_POOL.get(data.name, 1)


def _binarization(data, config):
    return config["binarization"] or binarized.DEFAULT_BINARIZATION.get(data.name, "fixed")


def _binary(data, config):
    parts = (data.x_train, data.x_val, data.x_test)
    return [None if x is None else binarized.binarize(x, _binarization(data, config),
                                                      pool=_pool(data), seed=config["seed"] + i)
            for i, x in enumerate(parts)]


class ConcreteVAERecipe(Recipe):
    """Jang et al.'s categorical VAE on binarised images (see the module docstring)."""

    name = "concrete_vae"
    defaults = {
        "dataset": "digits",
        "batch_size": 100,  # Jang's code
        "epochs": 100,
        "learning_rate": 1e-3,  # Jang's code (Adam)
        "initial_temperature": 1.0,  # Sec. 4.2
        "min_temperature": 0.5,  # Sec. 4.2
        "anneal_rate": 5e-4,  # Sec. 4.2 uses 1e-5 / 1e-4 over far longer runs (see above)
        "anneal_every": 100,
        "kl": "analytic",
        "straight_through": False,
        "binarization": None,  # the dataset's: digits "threshold", MNIST "fixed" (papers)
        "iw_samples": 1000,  # both papers' evaluation bound
    }
    tiny = {"epochs": 2, "iw_samples": 20}
    export_after_training = False
    batch_norm = False

    def build_model(self, builder, data, config):
        h, w, c = data.x_train.shape[1:]
        pool = _pool(data)
        return builder(image_shape=(h // pool, w // pool, c),
                       temperature=config["initial_temperature"], kl=config["kl"],
                       straight_through=config["straight_through"],
                       iw_samples=config["iw_samples"], seed=config["seed"])

    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]),
                      jit_compile=jit_compile)
        return model

    def callbacks(self, config, *, has_validation, data=None):
        return [TemperatureAnnealing(config["initial_temperature"], config["min_temperature"],
                                     config["anneal_rate"], config["anneal_every"])]

    def make_datasets(self, data, config):
        """`Inputs` of binarised images (train, validation or None, test), and the training
        images as `Examples` for multi-worker training (fixed or thresholded binarisation:
        a dynamic one draws new pixels every epoch, which `Examples` does not)."""
        x_train, x_val, x_test = _binary(data, config)
        dynamic = _binarization(data, config) == "dynamic"
        common = dict(batch_size=config["batch_size"], dynamic=dynamic, seed=config["seed"])
        return Inputs(
            train=binarized.make_binarized_pipeline(x_train, training=True, **common),
            validation=None if x_val is None else binarized.make_binarized_pipeline(
                x_val, training=False, **common),
            test=binarized.make_binarized_pipeline(x_test, training=False, **common),
            examples=None if dynamic else Examples(
                (np.asarray(x_train, np.float32),), config["batch_size"], seed=config["seed"]))

    def write_artifacts(self, model, data, config, out, *, rows=10):
        """``samples.png`` in `out`: a row of (up to ``2 * rows``) test images, a row of their
        reconstructions and a row of as many samples from the prior."""
        from PIL import Image

        x = _binary(data, config)[2][:rows * 2]
        if _binarization(data, config) == "dynamic":
            x = (np.random.default_rng(config["seed"]).random(x.shape) < x).astype(np.float32)
        recon = model.predict(x, verbose=0)
        prior = keras.ops.convert_to_numpy(model.sample_prior(len(x), seed=config["seed"]))
        grid = np.concatenate([np.concatenate(list(block), axis=1)
                               for block in (x, recon, prior)], axis=0)[..., 0]
        scale = max(1, 32 // x.shape[1])  # digits 8x8 -> 32x32 pixels per image
        image = Image.fromarray(np.uint8(np.round(grid * 255))).resize(
            (grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
        path = os.path.join(out, "samples.png")
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG")
        return [path]

    def artifacts(self, model):
        """A `ConcreteVAE` samples between its encoder and decoder, so it has no single
        deterministic graph: two artifacts, the encoder (binarised float images -> code
        logits) and the decoder (codes -> pixel logits)."""
        return [Artifact("encoder", model.encoder, {"raw_pixels": False}),
                Artifact("decoder", model.decoder, {"raw_pixels": False})]
