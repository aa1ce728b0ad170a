"""Shared reading: the running training accuracy in a batch's logs."""


def running_accuracy(logs, monitor="accuracy"):
    """``logs[monitor]`` as a float, or None when `logs` lack `monitor`.

    At a batch end Keras logs the running mean of the epoch's batches so far
    (what the progress bar shows): the accuracy of the recent updates, whose
    training error is ``1 - accuracy``.
    """
    value = (logs or {}).get(monitor)
    return None if value is None else float(value)
