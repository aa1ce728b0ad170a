"""Multi-worker training with MultiWorkerMirroredStrategy: 2 worker processes on
127.0.0.1, each with its own run directory, streaming the digits from PNG files (each
worker reads only its rows of every global batch), end with the same weights, equal to
one process on the same augmented global batches of in-memory arrays; after a worker is
killed mid-epoch and both restart, they resume from the chief's backup at the same step
and see the same augmented batches."""

import dataclasses
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.train import multiworker
from keras_zoo.train.datasets import Examples, GlobalBatches, IndexedSource
from keras_zoo.train.rendezvous import loopback_workers
from tests.train import multiworker_worker as worker

WORKER = os.path.abspath(worker.__file__)
STEPS = worker.EPOCHS * (worker.EXAMPLES // worker.GLOBAL_BATCH)
# All-reduce sums the two half-batch gradients in another order than one full-batch
# gradient: float32 round-off after 12 SGD steps, measured ~5e-7.
WEIGHT_ATOL = 1e-5
# The workers apply the same all-reduced gradients (ring all-reduce hands every worker
# the same sums) to the same weights: they can differ only if a process picked another
# kernel for the same op, a few float32 ulps of weights below 1 in magnitude.
WORKERS_ATOL = 1e-6


def _free_ports(n):
    return loopback_workers(n)


def _start(out, workers, images, *extra):
    """Both workers, each with its own run directory ``out/worker<i>``, streaming `images`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    return [subprocess.Popen([sys.executable, WORKER, str(out / f"worker{i}"), "--workers",
                              workers, "--task-index", str(i), "--images", str(images),
                              *map(str, extra)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            for i in range(2)]


def communicate(procs, timeout):
    """Each process's output once it exits; all are killed if one runs past `timeout`
    seconds (a test never leaves a worker behind, blocked in an all-reduce)."""
    deadline, outputs = time.monotonic() + timeout, []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=max(1, deadline - time.monotonic()))[0].decode(
                errors="replace"))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return outputs


def _wait(procs, timeout=240):
    for p, output in zip(procs, communicate(procs, timeout)):
        assert p.returncode == 0, output[-3000:]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    worker.write_images(str(folder))
    return folder


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def reference():
    """One process, default strategy, the same (augmented) global batches."""
    weights = {}
    for augmentation in (worker.AUGMENTATION, "none"):
        model = worker.compiled_model()
        examples = dataclasses.replace(worker.examples(), augmentation=augmentation)
        multiworker.fit_distributed(model, examples, epochs=worker.EPOCHS, verbose=0,
                                    strategy=multiworker.tf.distribute.get_strategy())
        assert int(model.optimizer.iterations.numpy()) == STEPS
        weights[augmentation] = [np.asarray(w) for w in model.get_weights()]
    # The augmentation changes the trajectory far beyond WEIGHT_ATOL, so matching the
    # augmented reference shows the workers augmented exactly as one process does.
    assert max(np.abs(a - b).max() for a, b in zip(*weights.values())) > 100 * WEIGHT_ATOL
    return weights[worker.AUGMENTATION]


def _crops(image, pad):
    """NumPy reference of "cifar" augmentation: every pad/crop/flip of `image`."""
    height, width = image.shape[:2]
    padded = np.pad(image, [(pad, pad), (pad, pad), (0, 0)])
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            crop = padded[dy:dy + height, dx:dx + width]
            yield (dy, dx, False), crop
            yield (dy, dx, True), crop[:, ::-1]


def _batches(examples, epoch=1, *, replicas=1, first=0, local=1, skip=0):
    """The batches pipeline `first // local` of `replicas` replicas reads in pass `epoch`
    from its step `skip` on."""
    context = tf.distribute.InputContext(num_input_pipelines=replicas // local,
                                         input_pipeline_id=first // local,
                                         num_replicas_in_sync=replicas)
    steps = examples.steps_per_pass()
    dataset = examples.dataset(context, epoch * steps + skip).take((steps - skip) * local)
    return [(np.asarray(a), np.asarray(b)) for a, b in dataset]


def _distinct_images(n=16, side=5):
    rng = np.random.default_rng(0)
    x = rng.permutation(n * side * side).reshape(n, side, side, 1).astype("int32") + 1
    return x, np.arange(n)  # distinct pixels: each crop names its image and its draw


def test_global_batches_augment_each_image_of_the_whole_batch():
    x, y = _distinct_images()
    plain = Examples((x, y), batch_size=4, seed=3)
    augmented = Examples((x, y), batch_size=4, seed=3, augmentation="cifar", pad=1)
    plain_batches, aug_batches = _batches(plain), _batches(augmented)
    for (pa, pb), (aa, ab) in zip(plain_batches, aug_batches):
        np.testing.assert_array_equal(ab, pb)  # augmenting keeps the batch order
    order = np.concatenate([b for _, b in plain_batches])
    np.testing.assert_array_equal(order, np.random.default_rng([3, 1]).permutation(16))
    draws = []
    for a, p in zip(np.concatenate([a for a, _ in aug_batches]),
                    np.concatenate([a for a, _ in plain_batches])):
        matches = [d for d, crop in _crops(p, 1) if np.array_equal(crop, a)]
        assert len(matches) == 1  # a pad/crop/flip of its own image (distinct pixels: unique)
        draws.append(matches[0])
    assert len(set(draws)) > 4  # random per image, not one draw for the batch
    again = _batches(augmented)
    for (a, _), (b, _) in zip(again, aug_batches):
        np.testing.assert_array_equal(a, b)  # seeded: the same on every worker
    other = _batches(dataclasses.replace(augmented, seed=4))
    assert not all(np.array_equal(a, b) for (a, _), (b, _) in zip(other, aug_batches))


def test_shards_of_a_global_batch_are_its_slices():
    """Two pipelines of one replica each, or one pipeline of two replicas, yield the rows
    of the single-process global batches, augmented the same way (integer pixels moved
    by gathers: exact)."""
    x, y = _distinct_images()
    examples = Examples((x, y), batch_size=8, seed=5, augmentation="cifar", pad=1)
    whole = _batches(examples)
    shards = [_batches(examples, replicas=2, first=k) for k in range(2)]
    both = _batches(examples, replicas=2, local=2)
    for step, (wx, wy) in enumerate(whole):
        for k in range(2):
            for got in (shards[k][step], both[2 * step + k]):
                np.testing.assert_array_equal(got[0], wx[4 * k:4 * k + 4])
                np.testing.assert_array_equal(got[1], wy[4 * k:4 * k + 4])


def test_resumed_epoch_sees_the_same_augmented_batches():
    """A restart at step k of an epoch gets the uninterrupted run's batches k, k+1, ..."""
    x = np.random.default_rng(1).integers(0, 256, (24, 6, 6, 1), dtype=np.uint8)
    examples = Examples((x, np.arange(24) % 10), batch_size=8, seed=5, augmentation="cifar")
    full, resumed = _batches(examples, 2), _batches(examples, 2, skip=2)
    assert len(full) == 3 and len(resumed) == 1
    np.testing.assert_array_equal(resumed[0][0], full[2][0])
    np.testing.assert_array_equal(resumed[0][1], full[2][1])
    assert not np.array_equal(full[0][0], full[1][0])


def test_pass_orders_are_seeded_by_a_seed_sequence():
    """``default_rng([seed, pass])``: seed 0 / pass 1 and seed 1 / pass 0 are other
    orders (``seed + pass`` made them equal)."""
    def order(seed, pass_index):
        return GlobalBatches(50, 1, seed=seed).order(pass_index).ravel()

    np.testing.assert_array_equal(order(0, 1), np.random.default_rng([0, 1]).permutation(50))
    assert not np.array_equal(order(0, 1), order(1, 0))
    assert not np.array_equal(order(0, 0), order(0, 1))


def test_a_streamed_source_gives_the_batches_of_its_arrays():
    """An `IndexedSource` (examples read one by one, here from a tensor) yields the same
    batches as the arrays; a tf.data.Dataset, which cannot be read by index, is refused."""
    x, y = _distinct_images()
    arrays = Examples((x, y), batch_size=4, seed=2, augmentation="cifar", pad=1)
    images, labels = tf.constant(x), tf.constant(y)
    source = IndexedSource(len(x), lambda i: (tf.gather(images, i), tf.gather(labels, i)))
    streamed = dataclasses.replace(arrays, source=source)
    for shard in range(2):
        for (a, b), (c, d) in zip(_batches(arrays, replicas=2, first=shard),
                                  _batches(streamed, replicas=2, first=shard)):
            np.testing.assert_array_equal(a, c)
            np.testing.assert_array_equal(b, d)
    with pytest.raises(ValueError, match="cannot be read by index"):
        Examples(tf.data.Dataset.from_tensor_slices((x, y)), batch_size=4)


def test_examples_reject_unknown_augmentation():
    with pytest.raises(ValueError, match="Expected augmentation"):
        Examples((np.zeros((4, 32, 32, 1)), np.zeros(4)), batch_size=2, augmentation="mixup")


def _check(out, reference, resumed):
    w0, w1 = (_weights(out / f"worker{i}" / f"weights-{i}.npz") for i in range(2))
    for a, b, r in zip(w0, w1, reference):
        np.testing.assert_allclose(a, b, atol=WORKERS_ATOL, rtol=0)  # the workers agree
        np.testing.assert_allclose(a, r, atol=WEIGHT_ATOL, rtol=0)
    starts = set()
    for i in range(2):
        steps, start, _ = (out / f"worker{i}" / f"steps-{i}.txt").read_text().split()
        assert int(steps) == STEPS  # same number of steps, nothing lost or repeated
        starts.add(int(start))
    # Both started at one step: the chief's backup step (>= 4) after a restart, though
    # worker 1's disk holds no backup.
    assert len(starts) == 1
    assert (min(starts) >= 4) if resumed else (min(starts) == 0)
    assert (out / "worker0" / "last.keras").is_file()  # written by the chief ...
    assert sorted(os.listdir(out / "worker1")) == ["steps-1.txt", "weights-1.npz"]  # ... only
    assert not (out / "worker0" / "backup").exists()  # deleted when the run finished


@pytest.mark.large
def test_two_streaming_workers_match_one_process(tmp_path, reference, images):
    _wait(_start(tmp_path, _free_ports(2), images))
    _check(tmp_path, reference, resumed=False)


@pytest.mark.large
def test_killed_worker_resumes_from_the_chiefs_backup(tmp_path, reference, images):
    procs = _start(tmp_path, _free_ports(2), images, "--backup-every", 2, "--sleep", 0.7)
    deadline = time.time() + 180
    index = tmp_path / "worker0" / "backup" / "ckpt-2.index"  # after step 4 of epoch 1's 6
    while not index.exists():
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            outputs = communicate([p for p in procs if p.poll() is None] or procs, 1)
            raise AssertionError(f"no backup: {[o[-2000:] for o in outputs]}")
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)  # a worker dies mid-epoch ...
    procs[1].wait()
    procs[0].kill()  # ... and its peer, blocked in all-reduce, is restarted too
    procs[0].wait()
    assert not (tmp_path / "worker0" / "steps-0.txt").exists()
    assert not (tmp_path / "worker1" / "backup").exists()  # only the chief backs up
    _wait(_start(tmp_path, _free_ports(2), images))
    _check(tmp_path, reference, resumed=True)  # restarted at the chief's backup (step >= 4)
