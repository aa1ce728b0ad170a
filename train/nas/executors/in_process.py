"""`InProcessExecutor`: children evaluated one after another in this process."""

from keras_zoo.train.nas.executors.child_run import run_child


class InProcessExecutor:
    """Evaluates the children of a batch in order, in the calling process
    (``--executor in-process``, for debugging; `search`'s default when called
    from Python). A child that raises scores the failure reward (see
    `run_child`); one that takes the whole process down ends the search,
    which then resumes from its last checkpoint: `ProcessPoolExecutor` (the
    command line's default) isolates children that might."""

    def run(self, evaluate, archs):
        """Yields ``(index, result)`` for every architecture, in order."""
        for index, arch in enumerate(archs):
            yield index, run_child(evaluate, arch)

    def close(self):
        """Nothing to release."""
