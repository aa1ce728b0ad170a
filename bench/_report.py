"""What every bench script prints: one JSON line per result, with the CPU it ran on.

Figures differ a lot between AVX2-only and AVX-512 (or AMX) machines, so each line
carries ``"cpu": {"model": ..., "vector_extensions": [...]}`` from
`keras_zoo.train.cpu.cpu_info`. Scripts run as ``python bench/<name>.py``, so this
module is importable as ``_report``.
"""

import functools
import json

from keras_zoo.train.cpu import cpu_info


@functools.lru_cache(maxsize=1)
def _cpu():
    return cpu_info()


def emit(record):
    """Prints `record` (a JSON-able dict) as one JSON line, with the CPU added."""
    print(json.dumps({**record, "cpu": _cpu()}), flush=True)
