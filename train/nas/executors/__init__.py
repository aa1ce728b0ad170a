"""Executors: where the children of a batch are evaluated.

An executor has ``run(evaluate, archs)``, a generator of ``(index, result)``
pairs as the children finish (results from `run_child`), and ``close()``.
The search loop knows nothing else of it, and an executor knows nothing of
the controller or of what `evaluate` trains.

- `InProcessExecutor`: one after another in this process (the default).
- `ProcessPoolExecutor`: local worker processes (``--workers N``).
- `RayExecutor`: Ray tasks on this machine or a cluster (``--executor ray``;
  the optional ``ray`` extra).
"""

from keras_zoo.train.nas.executors.child_run import run_child
from keras_zoo.train.nas.executors.in_process import InProcessExecutor
from keras_zoo.train.nas.executors.process_pool import ProcessPoolExecutor
from keras_zoo.train.nas.executors.ray_executor import RayExecutor

NAMES = ("inprocess", "pool", "ray")

__all__ = ["NAMES", "InProcessExecutor", "ProcessPoolExecutor", "RayExecutor", "get",
           "run_child"]


def get(name="inprocess", *, workers=None, address=None):
    """The executor called `name` (one of `NAMES`) for the CLI flags."""
    if name not in NAMES:
        raise ValueError(f"Expected an executor in {NAMES}. Received: executor={name!r}")
    if name == "inprocess":
        if workers not in (None, 1):
            raise ValueError(f"Expected --workers only with --executor pool or ray. "
                             f"Received: --workers {workers} with --executor inprocess")
        return InProcessExecutor()
    if name == "pool":
        return ProcessPoolExecutor(workers or 2)
    # A local runtime of `workers` CPUs keeps its workers' TensorFlow logs off the progress bar.
    return RayExecutor(address, init_kwargs={} if address or not workers else
                       {"num_cpus": workers, "include_dashboard": False, "log_to_driver": False})
