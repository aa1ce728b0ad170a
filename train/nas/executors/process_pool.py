"""`ProcessPoolExecutor`: children evaluated in parallel by local worker processes."""

import concurrent.futures
import multiprocessing
import time
from concurrent.futures.process import BrokenProcessPool

from keras_zoo.checks import positive_int
from keras_zoo.train.nas.executors.child_run import failure, run_child

_EVALUATE = None  # the worker process's evaluate, set once by _init_worker


def _init_worker(evaluate):
    global _EVALUATE
    _EVALUATE = evaluate


def _evaluate_in_worker(arch):
    return run_child(_EVALUATE, arch)


class ProcessPoolExecutor:
    """Evaluates up to `workers` children at once in worker processes
    (``keras-zoo search``'s default: one worker).

    Workers are started with the "spawn" method (TensorFlow's threads do not
    survive a fork) and receive `evaluate` once, pickled (so it must be a
    module-level function or a picklable object such as `ChildTrainer`);
    they stay up for the whole search. A child that raises scores the
    failure reward (see `run_child`). If a worker dies (a segfault, an
    abort such as glibc's in TensorFlow's oneDNN convolution gradient, the
    kernel's out-of-memory killer), the unfinished children of the batch are
    run again one at a time by a fresh worker (restarted only when one dies):
    one that kills its worker again is reported as failed, the others
    complete.

    Args:
        workers: number of worker processes.
    """

    def __init__(self, workers=1):
        positive_int("workers", workers)
        self.workers = workers
        self._pool = None
        self._evaluate = None

    def _start(self, evaluate, workers):
        self.close()
        self._pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(evaluate,))
        self._evaluate = evaluate

    def run(self, evaluate, archs):
        """Yields ``(index, result)`` as the children finish."""
        if self._pool is None or self._evaluate is not evaluate:
            self._start(evaluate, self.workers)
        futures = {self._pool.submit(_evaluate_in_worker, arch): i for i, arch in enumerate(archs)}
        lost = []
        for future in concurrent.futures.as_completed(futures):
            try:
                result = future.result()
            except BrokenProcessPool:
                lost.append(futures[future])
                continue
            yield futures[future], result
        broken = bool(lost)
        for index in sorted(lost):  # the pool broke: retry each child alone
            if broken:  # a fresh worker, restarted only when one died
                self._start(evaluate, 1)
            start = time.perf_counter()
            try:
                result = self._pool.submit(_evaluate_in_worker, archs[index]).result()
                broken = False
            except BrokenProcessPool:
                result = failure("the worker process died while training this child "
                                 "(killed by a signal: out of memory, or a native crash "
                                 "such as an abort)")
                result["seconds"] = time.perf_counter() - start
                broken = True
            yield index, result
        if lost:
            self.close()  # the next batch starts a full pool again

    def close(self):
        """Stops the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
