"""Executors: where the children of a batch are evaluated.

An executor has ``run(evaluate, archs)``, a generator of ``(index, result)``
pairs as the children finish (results from `run_child`), and ``close()``.
The search loop knows nothing else of it, and an executor knows nothing of
the controller or of what `evaluate` trains.

- `ProcessPoolExecutor`: local worker processes; ``keras-zoo search``'s
  default is a pool of one (``--executor pool``): a child that crashes its
  process (a native abort, the out-of-memory killer) takes down the worker,
  not the search; the worker is restarted and the child retried once, then
  scored with the failure reward. ``--workers N`` trains N children at once.
- `InProcessExecutor`: one after another in this process (``--executor
  in-process``, for debugging; `search`'s default in Python, where
  `evaluate` may be any callable).
- `RayExecutor`: Ray tasks on this machine or a cluster (``--executor ray``;
  the optional ``ray`` extra).
"""

from keras_zoo.checks import one_of
from keras_zoo.train.nas.executors.child_run import run_child
from keras_zoo.train.nas.executors.in_process import InProcessExecutor
from keras_zoo.train.nas.executors.process_pool import ProcessPoolExecutor
from keras_zoo.train.nas.executors.ray_executor import RayExecutor

NAMES = ("pool", "in-process", "ray")

__all__ = ["NAMES", "InProcessExecutor", "ProcessPoolExecutor", "RayExecutor", "get",
           "run_child"]


def get(name="pool", *, workers=None, address=None):
    """The executor called `name` (one of `NAMES`) for the CLI flags; the
    default is ``keras-zoo search``'s: one worker process."""
    one_of("executor", name, NAMES)
    if name == "in-process":
        if workers not in (None, 1):
            raise ValueError(f"Expected --workers only with --executor pool or ray. "
                             f"Received: --workers {workers} with --executor in-process")
        return InProcessExecutor()
    if name == "pool":
        return ProcessPoolExecutor(workers or 1)
    # A local runtime of `workers` CPUs keeps its workers' TensorFlow logs off the progress bar.
    return RayExecutor(address, init_kwargs={} if address or not workers else
                       {"num_cpus": workers, "include_dashboard": False, "log_to_driver": False})
