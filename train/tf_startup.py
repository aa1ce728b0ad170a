"""TensorFlow's start-up without its C++ log lines on the user's terminal.

Importing TensorFlow and discovering its devices prints lines such as ``I0000
00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine``,
``WARNING: All log messages before absl::InitializeLog() is called are
written to STDERR``, the oneDNN notice and, on a machine without a GPU,
``E0000 ... failed call to cuInit``. They come from C++ and go straight to
file descriptor 2, before absl reads ``TF_CPP_MIN_LOG_LEVEL``, so no
environment variable silences all of them. `quiet_startup` points fd 2 at a
temporary file for the start-up only and then:

- on success, writes back every line that is not a C++ log record (a Python
  warning printed during the import still shows);
- when the start-up raises (TensorFlow fails to import), writes back all of
  it, so the real error is never hidden.

With ``KERAS_ZOO_DEBUG=1`` (or without a writable temporary directory)
nothing is captured.
"""

import contextlib
import os
import re
import sys
import tempfile

# absl/glog record: severity and MMDD, time (before absl starts: seconds since the epoch),
# thread id, file:line]
_NATIVE_LOG = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\] ")
_ABSL_BANNER = "WARNING: All log messages before absl::InitializeLog() is called"


def is_native_log_line(line):
    """Whether `line` is one of TensorFlow's C++ start-up log lines."""
    return bool(_NATIVE_LOG.match(line)) or line.startswith(_ABSL_BANNER)


@contextlib.contextmanager
def quiet_startup(*, debug=False):
    """Runs the block with fd 2 captured (see the module docstring).

    Also sets ``TF_CPP_MIN_LOG_LEVEL=2`` (unless set): TensorFlow's later C++
    INFO and WARNING lines, e.g. the CPU-instructions notice, stay quiet too."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        captured = None if debug else tempfile.TemporaryFile()
    except OSError:  # no temporary directory to write to: leave fd 2 alone
        captured = None
    if captured is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with captured:
        os.dup2(captured.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines
                                     if failed or not is_native_log_line(line)))
            sys.stderr.flush()


def start_tensorflow(*, debug=False):
    """Imports TensorFlow and keras_zoo's models (which registers every keras_zoo
    layer and model for `keras.saving.load_model`) and discovers the devices,
    inside `quiet_startup`."""
    with quiet_startup(debug=debug):
        import tensorflow as tf

        import keras_zoo.models  # noqa: F401

        tf.config.list_physical_devices()
