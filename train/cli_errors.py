"""How ``keras-zoo`` reports an exception: one line and an exit status.

`describe(error)` decides (the statuses are listed in `keras_zoo.train.cli`):

- ValueError (a malformed JSON file included) and OSError (a missing file,
  permission denied, a read-only file system, a full disk): the user's
  input or environment, exit 2 with the message (an OSError from the system
  as ``<what went wrong>: '<path>' (<what to do>)``).
- ModuleNotFoundError: exit 2; when the module belongs to an optional extra
  of setup.py (`EXTRAS`), the line names the extra and its pip command, else
  it names the missing module.
- KeyboardInterrupt (Ctrl-C): exit 130; `Interrupted` carries what to run to
  resume.
- Anything else is a bug: exit 1, one line with the exception and the hint
  to set ``KERAS_ZOO_DEBUG=1`` for the traceback.
"""

import errno

USER_ERROR = 2
FAILED = 1
INTERRUPTED = 130

# Top-level import name -> the extra of setup.py's extras_require that installs it.
EXTRAS = {"onnx": "onnx", "onnxruntime": "onnx", "tf2onnx": "onnx",
          "tensorflow_serving": "serving", "torch": "torch", "ray": "ray",
          "analognasbench": "nasbench", "pkg_resources": "nasbench",  # analog-nasbench's
          "mkdocs": "docs", "material": "docs", "mkdocstrings": "docs",
          "mkdocstrings_handlers": "docs"}

_HINTS = {errno.ENOSPC: "free some space, or write elsewhere",
          errno.EDQUOT: "free some space, or write elsewhere",
          errno.EACCES: "check its permissions, or choose another path",
          errno.EPERM: "check its permissions, or choose another path",
          errno.EROFS: "the file system is read-only: choose another path"}


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with the message that says how to resume (e.g. the run directory)."""


def one_line(error):
    """The exception's message on one line (whitespace runs become one space)."""
    return " ".join(str(error).split())


def describe(error):
    """``(exit status, message)`` for `error` (see the module docstring)."""
    if isinstance(error, KeyboardInterrupt):
        return INTERRUPTED, f"interrupted: {one_line(error)}" if str(error) else "interrupted"
    if isinstance(error, ModuleNotFoundError) and error.name and not error.name.startswith(
            "keras_zoo"):
        return USER_ERROR, f"error: {_missing_module(error.name)}"
    if isinstance(error, OSError) and error.errno is not None and error.strerror:
        return USER_ERROR, f"error: {_os_error(error)}"
    if isinstance(error, (ValueError, OSError)):
        return USER_ERROR, f"error: {one_line(error)}"
    return FAILED, (f"internal error: {type(error).__name__}: {one_line(error)} (a bug in "
                    f"keras-zoo; set KERAS_ZOO_DEBUG=1 to see the traceback)")


def _missing_module(name):
    extra = EXTRAS.get(name.partition(".")[0])
    if extra:
        return (f"Expected the {extra!r} extra for this command: pip install "
                f"'keras_zoo[{extra}]'. Received: no module named {name!r}")
    return (f"Expected the Python module {name!r}, a dependency of keras-zoo. Received: it is "
            f"not installed; reinstall keras_zoo (pip install keras_zoo) or install it")


def _os_error(error):
    message = " ".join(error.strerror.split())
    if error.filename is not None:
        message += f": {str(error.filename)!r}"
    if error.filename2 is not None:
        message += f" -> {str(error.filename2)!r}"
    hint = _HINTS.get(error.errno)
    return message + (f" ({hint})" if hint else "")
