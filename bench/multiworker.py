"""Multi-worker training on loopback: one process against two workers.

    nice -n 10 python bench/multiworker.py [--steps 20] [--warmup 3]

For ResNet-20 on in-memory arrays (CIFAR-shaped random images, global batch 64) and
`mask-rcnn-tiny` on COCO-format files (the shipped digits-instances canvases, global
batch 4), trains with ``--strategy multiworker``'s loop (`multiworker.fit_distributed`)
first as one worker, then as two workers on 127.0.0.1, and prints one JSON line per run:
images/s (global images per second over the timed steps, after the warm-up steps that
trace the step), the bytes each worker read from files while training (``rchar`` of
/proc/self/io) and the bytes of examples each one's input pipeline produced, and the
communication time per step: one all-reduce of the model's trainable variables (what
the optimizer sums every step), timed alone.

Both workers share the 2 cores of this machine, so two workers cannot be faster than
one process here: the figures measure the loop's overhead (communication, a second
process), not the speed-up of two machines.
"""

import argparse
import json
import os
import subprocess
import sys
import time

MODELS = {"resnet20": 64, "mask-rcnn-tiny": 4}  # model -> global batch


def _rchar():
    with open("/proc/self/io") as f:
        return int(next(line for line in f if line.startswith("rchar")).split()[1])


def _examples(name, batch_size):
    """``(build, examples, bytes per example or None)``: `build()` makes the compiled
    model (call it inside the strategy's scope)."""
    import numpy as np

    from keras_zoo.train import run
    from keras_zoo.train.datasets import Examples

    if name == "resnet20":
        entry, chosen, config = run.make_config("resnet20", recipe="quickstart",
                                                batch_size=batch_size, epochs=1)
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (4096, 32, 32, 3), dtype=np.uint8)
        y = rng.integers(0, 10, 4096).astype(np.int32)
        examples = Examples((x, y), batch_size, augmentation="cifar")

        def build():
            model = entry.builder(num_classes=10, input_shape=(32, 32, 3))
            model.get_layer("normalization").adapt(x[:512])
            return chosen.compile_model(model, config, steps_per_epoch=64)

        return build, examples, int(np.prod(x.shape[1:])) + 4
    entry, chosen, config = run.make_config(name, batch_size=batch_size, epochs=1)
    data = chosen.load_data({**config, "data_dir": None})
    config.update(chosen.config_from_data(data))
    inputs = chosen.make_datasets(data, config)

    def build():
        model = chosen.build_model(entry.builder, data, config)
        chosen.compile_model(model, config, steps_per_epoch=64)
        return model

    return build, inputs.examples, None


def worker(args):
    """One worker: trains, times, prints its figures as one JSON line."""
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_zoo.train import multiworker

    strategy = multiworker.multiworker_strategy(args.workers, args.task_index, timeout=120)
    keras.utils.set_random_seed(0)
    build, examples, example_bytes = _examples(args.model, MODELS[args.model])
    with strategy.scope():
        model = build()
    marks = []

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            marks.append((time.perf_counter(), _rchar()))

    steps = args.warmup + args.steps
    multiworker.fit_distributed(model, examples, strategy=strategy, epochs=1,
                                steps_per_epoch=steps, callbacks=[Clock()], verbose=0)
    (start, read0), (end, read1) = marks[args.warmup - 1], marks[-1]
    variables = model.trainable_variables

    @tf.function
    def all_reduce():
        def fn():
            ctx = tf.distribute.get_replica_context()
            return ctx.all_reduce("SUM", [tf.zeros_like(v) for v in variables])[0]

        return strategy.run(fn)

    all_reduce()
    began = time.perf_counter()
    for _ in range(10):
        all_reduce()
    replicas = strategy.num_replicas_in_sync
    per_replica = examples.batch_size // replicas
    produced = None if example_bytes is None else args.steps * per_replica * example_bytes
    print(json.dumps({"images_per_s": args.steps * examples.batch_size / (end - start),
                      "bytes_read_from_files": read1 - read0,
                      "bytes_of_examples": produced,
                      "allreduce_ms": 1000 * (time.perf_counter() - began) / 10,
                      "gradient_bytes": int(sum(np.prod(v.shape) * 4 for v in variables))}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--role", default="driver")
    parser.add_argument("--model")
    parser.add_argument("--workers")
    parser.add_argument("--task-index", type=int, default=0)
    args = parser.parse_args()
    if args.role == "worker":
        return worker(args)
    from keras_zoo.train.rendezvous import loopback_workers

    from _report import emit

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    for name in args.models.split(","):
        for count in (1, 2):
            workers = loopback_workers(count)
            procs = [subprocess.Popen(
                [sys.executable, __file__, "--role", "worker", "--model", name, "--workers",
                 workers, "--task-index", str(i), "--steps", str(args.steps), "--warmup",
                 str(args.warmup)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                for i in range(count)]
            results = []
            for p in procs:
                out, err = p.communicate(timeout=3600)
                if p.returncode:
                    raise SystemExit(f"worker failed: {err.decode()[-2000:]}")
                results.append(json.loads(out.decode().strip().splitlines()[-1]))
            emit({"bench": "multiworker", "model": name, "workers": count,
                  "global_batch": MODELS[name], "timed_steps": args.steps,
                  "images_per_s": round(results[0]["images_per_s"], 2),
                  "bytes_read_from_files": [r["bytes_read_from_files"] for r in results],
                  "bytes_of_examples": [r["bytes_of_examples"] for r in results],
                  "allreduce_ms_per_step": (round(results[0]["allreduce_ms"], 2)
                                            if count > 1 else 0.0),
                  "gradient_bytes": results[0]["gradient_bytes"],
                  "load_1min": round(os.getloadavg()[0], 2),
                  "note": "loopback workers sharing one machine's cores: overhead, not "
                          "speed-up"})


if __name__ == "__main__":
    main()
