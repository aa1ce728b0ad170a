"""Training for keras_zoo.

Datasets, recipes, schedules, callbacks, strategies, evaluation and the
`keras-zoo` CLI.
"""
