"""Picklable rewards for the executor and failure tests (importable by spawned workers)."""

import os
import signal

from keras_zoo.train.nas import TargetMatchReward


class FailingReward(TargetMatchReward):
    """`TargetMatchReward`, except that architectures whose first layer has
    `bad_height` fail: ``"raise"`` raises MemoryError, ``"kill"`` kills the
    worker process with SIGKILL (what the out-of-memory killer does),
    ``"abort"`` calls ``os.abort()`` (SIGABRT, what glibc does on a corrupted
    heap inside TensorFlow's oneDNN kernels)."""

    def __init__(self, space, target=0, *, bad_height=1, mode="raise"):
        super().__init__(space, target)
        self.bad_height = bad_height
        self.mode = mode

    def __call__(self, arch):
        if arch.layers[0].filter_height == self.bad_height:
            if self.mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.mode == "abort":
                os.abort()
            raise MemoryError("child ran out of memory")
        return super().__call__(arch)
