"""`RayExecutor`: children evaluated as Ray tasks, on this machine or a cluster."""

import time

from keras_zoo.train.nas.executors.child_run import failure, run_child


def _ray():
    try:
        import ray
    except ImportError:
        raise ValueError("Expected the 'ray' extra for the Ray executor "
                         "(pip install 'keras_zoo[ray]'). Received: ray is not installed") from None
    return ray


class RayExecutor:
    """Evaluates each child as one Ray task (https://docs.ray.io).

    `evaluate` is put in Ray's object store once per search and every task
    gets it from there, so it must pickle (a module-level function or an
    object such as `ChildTrainer`) and the workers must import keras_zoo. A
    child that raises scores the failure reward (see `run_child`); a task
    whose worker dies (Ray's out-of-memory killer, a segfault) is reported as
    failed and is not retried.

    Args:
        address: None starts a local Ray runtime (unless this process has
            already called ``ray.init``); ``"auto"`` joins the cluster this
            machine belongs to (``ray start --head`` / ``--address``);
            ``"ray://host:10001"`` connects a Ray client.
        num_cpus: CPUs Ray reserves for each child task (its parallelism).
        init_kwargs: other ``ray.init`` arguments, e.g. ``{"num_cpus": 4}``.
    """

    def __init__(self, address=None, num_cpus=1, init_kwargs=None):
        self.address = address
        self.num_cpus = num_cpus
        self.init_kwargs = dict(init_kwargs or {})
        self._owns_runtime = False
        self._evaluate = self._evaluate_ref = self._task = None

    def run(self, evaluate, archs):
        """Yields ``(index, result)`` as the children finish."""
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=self.address, **self.init_kwargs)
            self._owns_runtime = True
        if self._evaluate is not evaluate:
            self._evaluate, self._evaluate_ref = evaluate, ray.put(evaluate)
        if self._task is None:
            self._task = ray.remote(num_cpus=self.num_cpus, max_retries=0)(run_child)
        start = time.perf_counter()
        refs = {self._task.remote(self._evaluate_ref, arch): i for i, arch in enumerate(archs)}
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as error:
                    result = failure(f"the Ray task of this child failed: "
                                     f"{type(error).__name__}: {error}")
                    result["seconds"] = time.perf_counter() - start
                yield refs[ref], result

    def close(self):
        """Shuts down the Ray runtime if this executor started it."""
        if self._owns_runtime:
            _ray().shutdown()
            self._owns_runtime = False
        self._evaluate = self._evaluate_ref = self._task = None
