"""`finished_result`: the retrain directory of a search's best child, read back or prepared."""

import json
import os

RETRAIN_FORMAT = "keras_zoo.nas.retrain"


def finished_result(out, arch_record, *, overwrite=False):
    """The ``result.json`` in `out` of a retrain of `arch_record` (a trial
    record's ``"arch"``), or None after preparing `out` for a new one.

    Raises:
        ValueError: `out` holds files keras-zoo did not write.
    """
    result_path = os.path.join(out, "result.json")
    if os.path.exists(result_path) and not overwrite:
        with open(result_path, encoding="utf-8") as f:
            result = json.load(f)
        if result.get("format") == RETRAIN_FORMAT and result["arch"] == arch_record:
            return result
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(result_path):
        raise ValueError(f"Expected the retrain directory to be new or one keras-zoo wrote. "
                         f"Received: {out!r} holds other files")
    os.makedirs(out, exist_ok=True)
    return None


def read_arch_file(path):
    """The JSON value in `path` (a ``best_arch.json``), or FileNotFoundError."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an architecture JSON file. Received: "
                                f"--retrain {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"Expected architecture JSON in {path!r}. Received: {error}") from None
