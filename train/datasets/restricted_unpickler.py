"""A pickle loader that admits only what CIFAR's python-version batches hold.

Unpickling runs whatever callables a pickle names, so a crafted
``data_batch_1`` could run any command. The CIFAR batches (written by
Python 2 ``cPickle``) hold dicts, lists, byte strings, ints and one NumPy
``uint8`` array; rebuilding that array needs ``numpy.ndarray``,
``numpy.dtype`` and NumPy's array-reconstruction helpers, nothing else.
Re-pickled copies written by Python 3 with protocol <= 2 also name
``_codecs.encode`` (how those protocols spell ``bytes``). Every other global
is refused before it is looked up, so nothing in the file is executed.
"""

import _compat_pickle
import io
import pickle

import numpy as np

try:  # NumPy >= 2 moved the helpers to numpy._core; numpy.core is a shim.
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric


def _allowed_globals():
    allowed = {("_codecs", "encode"): __import__("_codecs").encode}
    for module in ("numpy.core", "numpy._core"):
        allowed[(f"{module}.multiarray", "_reconstruct")] = _multiarray._reconstruct
        if hasattr(_numeric, "_frombuffer"):  # protocol 5 pickles of arrays
            allowed[(f"{module}.numeric", "_frombuffer")] = _numeric._frombuffer
    allowed[("numpy", "ndarray")] = np.ndarray
    allowed[("numpy", "dtype")] = np.dtype
    return allowed


ALLOWED_GLOBALS = _allowed_globals()


class ForbiddenGlobalError(pickle.UnpicklingError):
    """A pickle named a global outside `RestrictedUnpickler`'s allow-list."""


class RestrictedUnpickler(pickle.Unpickler):
    """`pickle.Unpickler` whose `find_class` admits only `ALLOWED_GLOBALS`.

    Args:
        file: a binary file object holding the pickle.
        **kwargs: forwarded to `pickle.Unpickler` (CIFAR needs
            ``encoding="bytes"``: its dict keys are Python 2 byte strings).

    Raises:
        ForbiddenGlobalError: from `load()`, when the pickle names any other
            global (``os.system``, ``builtins.eval``, ...); the global is
            neither imported nor called.

    Example:

    >>> import io, pickle, numpy as np
    >>> blob = pickle.dumps({b"data": np.zeros((2, 3), np.uint8)}, protocol=2)
    >>> RestrictedUnpickler(io.BytesIO(blob), encoding="bytes").load()[b"data"].shape
    (2, 3)
    """

    def find_class(self, module, name):
        # Python 2 names (``__builtin__``), mapped as `pickle.Unpickler` does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise ForbiddenGlobalError(
                f"the pickle references {module}.{name}, which is not among the types a "
                "CIFAR batch contains (NumPy arrays, dicts, lists, bytes, ints)"
            ) from None


def restricted_loads(data, **kwargs):
    """Unpickle `data` (bytes) with `RestrictedUnpickler`; kwargs as `pickle.loads`."""
    return RestrictedUnpickler(io.BytesIO(data), **kwargs).load()
