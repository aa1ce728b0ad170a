"""Multi-worker training with MultiWorkerMirroredStrategy: 2 worker processes on
127.0.0.1 end with identical weights, equal to one process on the same augmented
global batches; a worker killed mid-run resumes from the last backup and sees the
same augmented batches."""

import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from keras_zoo.train import datasets, multiworker

from tests.train import multiworker_worker as worker

WORKER = os.path.abspath(worker.__file__)
STEPS = worker.EPOCHS * (worker.EXAMPLES // worker.GLOBAL_BATCH)
# All-reduce sums the two half-batch gradients in another order than one full-batch
# gradient: float32 round-off after 12 SGD steps, measured ~5e-7.
WEIGHT_ATOL = 1e-5


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ",".join(f"127.0.0.1:{p}" for p in ports)


def _start(out, workers, *extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    return [subprocess.Popen([sys.executable, WORKER, str(out), "--workers", workers,
                              "--task-index", str(i), *map(str, extra)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            for i in range(2)]


def _wait(procs, timeout=240):
    for p in procs:
        output = p.communicate(timeout=timeout)[0].decode(errors="replace")
        assert p.returncode == 0, output[-3000:]


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


@pytest.fixture(scope="module")
def reference():
    """One process, default strategy, the same (augmented) global batches."""
    data = datasets.load("digits")
    x = data.x_train[:worker.EXAMPLES].astype("float32")
    y = data.y_train[:worker.EXAMPLES]
    weights = {}
    for augmentation in (worker.AUGMENTATION, "none"):
        model = worker.small_model()
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        multiworker.fit_distributed(model, x, y, global_batch_size=worker.GLOBAL_BATCH,
                                    strategy=multiworker.tf.distribute.get_strategy(),
                                    epochs=worker.EPOCHS, augmentation=augmentation, verbose=0)
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


def test_global_batches_augment_whole_batches():
    rng = np.random.default_rng(0)
    x = rng.permutation(16 * 5 * 5).reshape(16, 5, 5, 1).astype("int32") + 1  # distinct pixels
    y = np.arange(16)
    plain_x, plain_y = multiworker.global_batches(x, y, 4, epoch=1, seed=3)
    aug_x, aug_y = multiworker.global_batches(x, y, 4, epoch=1, seed=3, augmentation="cifar",
                                              pad=1)
    np.testing.assert_array_equal(aug_y, plain_y)  # augmenting keeps the batch order
    draws = []
    for a, p in zip(aug_x.reshape(-1, 5, 5, 1), plain_x.reshape(-1, 5, 5, 1)):
        matches = [d for d, crop in _crops(p, 1) if np.array_equal(crop, a)]
        assert len(matches) == 1  # a pad/crop/flip of its own image (distinct pixels: unique)
        draws.append(matches[0])
    assert len(set(draws)) > 4  # random per image, not one draw for the batch
    again = multiworker.global_batches(x, y, 4, epoch=1, seed=3, augmentation="cifar", pad=1)
    np.testing.assert_array_equal(again[0], aug_x)  # seeded: the same on every worker
    other = multiworker.global_batches(x, y, 4, epoch=1, seed=4, augmentation="cifar", pad=1)
    assert not np.array_equal(other[0], aug_x)


def test_resumed_epoch_sees_the_same_augmented_batches():
    """A restart at step k of an epoch gets the uninterrupted run's batches k, k+1, ..."""
    x = np.random.default_rng(1).integers(0, 256, (24, 6, 6, 1), dtype=np.uint8)
    y = np.arange(24) % 10
    strategy = multiworker.tf.distribute.get_strategy()

    def batches(skip):
        dataset, _ = multiworker._distributed_dataset(strategy, x, y, 8, 2, 5, skip, "cifar",
                                                      None)
        return [(np.asarray(a), np.asarray(b)) for a, b in dataset]

    full, resumed = batches(0), batches(2)
    assert len(full) == 3 and len(resumed) == 1
    np.testing.assert_array_equal(resumed[0][0], full[2][0])
    np.testing.assert_array_equal(resumed[0][1], full[2][1])
    assert not np.array_equal(full[0][0], full[1][0])


def test_fit_distributed_rejects_unknown_augmentation():
    model = worker.small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="Expected augmentation"):
        multiworker.fit_distributed(model, np.zeros((4, 32, 32, 1)), np.zeros(4), verbose=0,
                                    strategy=multiworker.tf.distribute.get_strategy(),
                                    global_batch_size=2, augmentation="mixup")


def _check(out, reference, resumed):
    w0, w1 = _weights(out / "weights-0.npz"), _weights(out / "weights-1.npz")
    for a, b, r in zip(w0, w1, reference):
        np.testing.assert_array_equal(a, b)  # the workers agree exactly
        np.testing.assert_allclose(a, r, atol=WEIGHT_ATOL, rtol=0)
    for i in range(2):
        steps, start, _ = (out / f"steps-{i}.txt").read_text().split()
        assert int(steps) == STEPS  # same number of steps, nothing lost or repeated
        assert (int(start) >= 4) if resumed else (int(start) == 0)
    assert (out / "last.keras").is_file()  # written by the chief


@pytest.mark.large
def test_two_workers_match_one_process(tmp_path, reference):
    _wait(_start(tmp_path, _free_ports(2)))
    _check(tmp_path, reference, resumed=False)


@pytest.mark.large
def test_killed_worker_resumes_from_backup(tmp_path, reference):
    procs = _start(tmp_path, _free_ports(2), "--backup-every", 2, "--sleep", 0.7)
    deadline = time.time() + 180
    index = tmp_path / "backup" / "ckpt-2.index"  # the backup after step 4
    while not index.exists():
        assert time.time() < deadline and all(p.poll() is None for p in procs), "no backup"
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)  # a worker dies mid-run ...
    procs[1].wait()
    procs[0].kill()  # ... and its peer, blocked in all-reduce, is restarted too
    procs[0].wait()
    assert not (tmp_path / "steps-0.txt").exists()
    _wait(_start(tmp_path, _free_ports(2)))
    _check(tmp_path, reference, resumed=True)  # restarted at the last backup (step >= 4)
