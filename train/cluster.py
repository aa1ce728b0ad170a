"""The cluster of a multi-worker run: ``TF_CONFIG``, the strategy, the chief, broadcasts.

Run on several machines: set ``TF_CONFIG`` on each host (see `tf_config`), or give
every worker ``--workers h:p,h:p --task-index I``, then start the same command
everywhere; worker 0 is the chief. `multiworker_strategy` first checks that every
worker is up and runs the same configuration (`rendezvous`), so a worker that never
starts or was started with other settings stops the others with one line instead of
a hang.
"""

import json
import os

import keras
import tensorflow as tf

from keras_zoo.train.rendezvous import rendezvous

WORKER_TIMEOUT = 600.0  # seconds the workers wait for each other to start


def tf_config(workers, task_index):
    """The ``TF_CONFIG`` JSON for worker `task_index` of `workers` ("host:port" list)."""
    workers = [w.strip() for w in (workers.split(",") if isinstance(workers, str) else workers)]
    if not workers or any(":" not in w or not w.rpartition(":")[2].isdigit() for w in workers):
        raise ValueError(f"Expected workers as host:port,host:port. Received: workers={workers}")
    if len(set(workers)) != len(workers):
        raise ValueError(f"Expected a distinct host:port per worker. Received: workers={workers}")
    if not 0 <= task_index < len(workers):
        raise ValueError(f"Expected 0 <= task_index < {len(workers)}. "
                         f"Received: task_index={task_index}")
    return json.dumps({"cluster": {"worker": workers},
                       "task": {"type": "worker", "index": int(task_index)}})


def cluster_from_environment():
    """``(workers, task_index)`` of ``TF_CONFIG``: every task's "host:port" (chief first)
    and this task's index among them."""
    if "TF_CONFIG" not in os.environ:
        raise ValueError("Expected TF_CONFIG in the environment or --workers and --task-index "
                         "for --strategy multiworker. Received: neither")
    try:
        config = json.loads(os.environ["TF_CONFIG"])
        cluster, task = config["cluster"], config["task"]
        workers = list(cluster.get("chief", [])) + list(cluster.get("worker", []))
        index = int(task["index"]) + (len(cluster.get("chief", []))
                                      if task["type"] == "worker" else 0)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"Expected TF_CONFIG as JSON with a cluster and a task. Received: "
                         f"{os.environ['TF_CONFIG']!r} ({error})") from None
    if not 0 <= index < len(workers):
        raise ValueError(f"Expected TF_CONFIG's task among its cluster. Received: "
                         f"{os.environ['TF_CONFIG']!r}")
    return workers, index


def multiworker_strategy(workers=None, task_index=None, *, config=None,
                         timeout=WORKER_TIMEOUT):
    """A `MultiWorkerMirroredStrategy` over ring all-reduce. With `workers`, sets
    ``TF_CONFIG`` first; otherwise ``TF_CONFIG`` must be in the environment.

    Before TensorFlow starts, waits up to `timeout` seconds for every worker and checks
    that each runs the same `config` (a JSON-serialisable dict, e.g. the run's settings;
    None: only the cluster is compared); see `rendezvous`.

    Raises:
        rendezvous.WorkersUnavailable: a worker did not start within `timeout` (named).
        ValueError: no cluster; a worker with another configuration (named).
    """
    if workers is not None:
        os.environ["TF_CONFIG"] = tf_config(workers, task_index or 0)
    cluster, index = cluster_from_environment()
    rendezvous(cluster, index, {"workers": cluster, **(config or {})}, timeout=timeout)
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=tf.distribute.experimental.CommunicationImplementation.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_multiworker(strategy):
    """True for a `MultiWorkerMirroredStrategy` (Keras's `fit` cannot train under it)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """True on the worker that writes the run's files (worker 0, or the "chief" task);
    True for any strategy of one process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def worker_index(strategy):
    """``(workers, index)``: the number of worker processes of `strategy` and this one's
    index among them (chief first); ``(1, 0)`` for a strategy of one process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not spec:
        return 1, 0
    chiefs = len(spec.get("chief", []))
    index = resolver.task_id + (chiefs if resolver.task_type == "worker" else 0)
    return chiefs + len(spec.get("worker", [])), index


def broadcast_from_chief(strategy, values):
    """Every worker's copy of `values` (variables or tensors) as replica 0's (the chief's).

    One all-reduce: replica 0 contributes its values, every other replica
    zeros, so the sum is the chief's value exactly (integers are summed as
    int64). Variables are assigned the result; returns the list of results.
    """
    if strategy.num_replicas_in_sync == 1:
        return [tf.convert_to_tensor(v) for v in values]

    @tf.function
    def reduce():
        def replica_fn():
            ctx = tf.distribute.get_replica_context()
            first = tf.equal(ctx.replica_id_in_sync_group, 0)
            parts = [tf.convert_to_tensor(v) for v in values]
            parts = [p if p.dtype.is_floating else tf.cast(p, tf.int64) for p in parts]
            parts = [tf.where(first, p, tf.zeros_like(p)) for p in parts]
            reduced = list(parts)
            for dtype in {p.dtype for p in parts}:  # one all-reduce per dtype (packed)
                index = [i for i, p in enumerate(parts) if p.dtype == dtype]
                for i, r in zip(index, ctx.all_reduce("SUM", [parts[i] for i in index])):
                    reduced[i] = r
            return reduced

        return strategy.run(replica_fn)

    results = [tf.cast(strategy.experimental_local_results(r)[0], tf.as_dtype(
        keras.backend.standardize_dtype(v.dtype))) for r, v in zip(reduce(), values)]
    for v, r in zip(values, results):
        if hasattr(v, "assign"):
            v.assign(r)
    return results


def barrier(strategy):
    """Returns once every worker has called it (one small all-reduce)."""
    broadcast_from_chief(strategy, [tf.constant(0, tf.int64)])
