"""Charts with matplotlib: figures drawn off screen (Agg) and written atomically as PNG.

Every picture keras_zoo draws of numbers (the NAS reward curve, `keras-zoo plot`'s
training curves, bench/degradation.py's Fig. 6) goes through `figure` and `save`:
a `matplotlib.figure.Figure` built without pyplot (no global state, no display),
saved to a temporary name and renamed. matplotlib is imported when a chart is drawn,
never by ``keras-zoo --help``.

>>> fig, (ax,) = figure(1)
>>> ax.plot([0, 1], [0.9, 0.1], label="error")
>>> save(fig, "chart.png")
"""

from keras_zoo.train.atomic_files import atomic_path

DPI = 100


def figure(panels, *, columns=None, panel_size=(6.4, 4.0)):
    """A figure of `panels` axes on a grid of `columns` (default: all in one row).

    Returns ``(figure, [axes, ...])`` (row by row; spare cells of the grid hidden).
    """
    from matplotlib.figure import Figure

    columns = columns or panels
    rows = -(-panels // columns)
    fig = Figure(figsize=(panel_size[0] * columns, panel_size[1] * rows), dpi=DPI,
                 layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    for spare in axes[panels:]:
        spare.set_visible(False)
    return fig, axes[:panels]


def save(fig, path):
    """Writes `fig` as PNG to a temporary name and renames it to `path`."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
