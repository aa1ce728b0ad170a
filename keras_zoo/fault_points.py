"""Named points of a run where a test can end the process as a kill -9 would.

``KERAS_ZOO_ABORT_AT=<point>`` in the environment makes `reached(point)` end the process
at once (``os._exit``: no cleanup, no buffered output, no ``finally``), with exit status
`EXIT_STATUS`. The points (see `keras_zoo.train.run`): ``epoch-end:<N>`` (epoch N's log
row and checkpoint written, its backup not yet), ``training-done`` (the training phase
recorded as finished), ``evaluating`` (pictures drawn, evaluation not started),
``exporting`` (evaluation recorded, export not started) and ``saved-model-written`` (a
SavedModel written and verified, not yet renamed into place); ``retrain-trained``
(``keras-zoo search``: the best child's retrain saved its model, not yet tested).
Unset, `reached` does nothing.
"""

import os

ENVIRONMENT_VARIABLE = "KERAS_ZOO_ABORT_AT"
EXIT_STATUS = 137  # what a shell reports for a process killed with SIGKILL


def reached(point):
    """Ends the process now if ``KERAS_ZOO_ABORT_AT`` names `point`."""
    if os.environ.get(ENVIRONMENT_VARIABLE) == point:
        os._exit(EXIT_STATUS)
