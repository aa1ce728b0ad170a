"""Concrete / Gumbel-Softmax sampler throughput: keras_zoo.ops.concrete.sample against
tensorflow_probability's RelaxedOneHotCategorical(...).sample() and
torch.nn.functional.gumbel_softmax, on logits of shape [4096, 20, 10] (Jang et al.'s
20 x 10 latent code for a batch of 4096), temperature 0.5.

Prints one JSON line per contender: median seconds per call over `--repeats`
alternating rounds of `--calls` calls each, samples/s (one sample = one [20, 10]
code, i.e. 4096 per call) and the ratio to TFP's graph-mode sampler.

Run (the bench venv has torch, tensorflow-probability[tf]; torch is imported first):
    /work/benchenv/bin/python bench/concrete.py --repeats 7 --calls 20
Missing peers are reported as skipped, never faked.
"""

import argparse
import os
import statistics
import time

try:  # torch must be imported before tensorflow in the same process
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_zoo.ops import concrete  # noqa: E402

from _report import emit  # noqa: E402

SHAPE = (4096, 20, 10)
TEMPERATURE = 0.5


def _contenders(logits_np, device):
    logits = tf.constant(logits_np)
    gen = keras.random.SeedGenerator(0)
    out = {
        "keras_zoo_eager": lambda: concrete.sample(logits, TEMPERATURE, seed=gen),
        "keras_zoo_graph": tf.function(lambda: concrete.sample(logits, TEMPERATURE, seed=gen)),
        "keras_zoo_graph_hard": tf.function(
            lambda: concrete.sample(logits, TEMPERATURE, seed=gen, hard=True)),
    }
    try:
        import tensorflow_probability as tfp

        dist = tfp.distributions.RelaxedOneHotCategorical(TEMPERATURE, logits=logits)
        out["tfp_eager"] = lambda: dist.sample()
        out["tfp_graph"] = tf.function(lambda: dist.sample())
    except ImportError as error:
        emit({"contender": "tfp", "skipped": str(error)})
    if torch is not None:
        t_logits = torch.from_numpy(logits_np).to(device)
        out["torch_gumbel_softmax"] = lambda: torch.nn.functional.gumbel_softmax(
            t_logits, tau=TEMPERATURE)
    else:
        emit({"contender": "torch", "skipped": "torch is not installed"})
    return out


def _sync(result):
    if torch is not None and isinstance(result, torch.Tensor):
        if result.is_cuda:
            torch.cuda.synchronize()
        return
    result.numpy()  # waits for the TF computation (and copies back, as every peer does)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    device = "cuda" if torch is not None and torch.cuda.is_available() else "cpu"
    logits_np = np.random.default_rng(0).normal(size=SHAPE).astype(np.float32)
    contenders = _contenders(logits_np, device)
    for fn in contenders.values():  # warm up: tracing, allocation
        for _ in range(3):
            _sync(fn())
    times = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(args.calls - 1):
                fn()
            _sync(fn())
            times[name].append((time.perf_counter() - start) / args.calls)
    reference = statistics.median(times["tfp_graph"]) if "tfp_graph" in times else None
    for name, values in times.items():
        seconds = statistics.median(values)
        emit({
            "contender": name, "shape": list(SHAPE), "temperature": TEMPERATURE,
            "seconds_per_call": round(seconds, 6),
            "samples_per_s": round(SHAPE[0] / seconds),
            "speedup_vs_tfp_graph": None if reference is None else round(reference / seconds, 3),
            "device": device if name.startswith("torch") else (
                "gpu" if tf.config.list_physical_devices("GPU") else "cpu"),
            "tf": tf.__version__, "torch": getattr(torch, "__version__", None)})


if __name__ == "__main__":
    main()
