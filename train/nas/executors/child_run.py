"""`run_child`: one child evaluation as every executor runs it (timed, failures caught)."""

import math
import numbers
import time

RESERVED = ("trial", "update", "arch", "reward", "seconds", "failed", "error", "baseline",
            "log_prob", "entropy")


def run_child(evaluate, arch):
    """Calls ``evaluate(arch)`` and returns a JSON-ready result dict.

    `evaluate` returns a float reward, or a mapping with a float ``"reward"``
    and other JSON values (e.g. ``"val_accuracy"``) that go into the trial's
    record. Any exception (a crash, ``MemoryError``, TensorFlow's
    ``ResourceExhaustedError``) or a non-finite reward is caught: the result
    then has ``"failed": True`` and the ``"error"`` text, and the search
    scores the child with its failure reward. A child that kills its worker
    process is reported by the executor in the same form.

    Returns:
        ``{"reward": float or None, "seconds": float, "failed": bool, ...}``.
    """
    start = time.perf_counter()
    try:
        result = _parse(evaluate(arch))
    except Exception as error:  # any failure of the child is scored, not raised
        result = failure(f"{type(error).__name__}: {error}")
    result["seconds"] = time.perf_counter() - start
    return result


def failure(message):
    """The result of a child that failed with `message`."""
    return {"reward": None, "failed": True, "error": " ".join(str(message).split())[:2000]}


def _parse(value):
    extras = {}
    if isinstance(value, dict):
        clash = sorted(set(value) & set(RESERVED) - {"reward"})
        if "reward" not in value or clash:
            raise ValueError(f"Expected evaluate to return a float or a dict with 'reward' and "
                             f"none of {RESERVED[1:]}. Received: keys={sorted(value)}")
        extras = {k: v for k, v in value.items() if k != "reward"}
        value = value["reward"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Expected a float reward. Received: {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"Expected a finite reward. Received: {value!r}")
    return {"reward": float(value), "failed": False, **extras}
