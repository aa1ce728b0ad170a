"""`plot_run`: a run's training curves (log.csv, lr.csv) as one PNG.

One panel per quantity of ``log.csv`` (one row per epoch, Keras's CSVLogger): the
training value and its ``val_`` twin together (``loss`` and ``val_loss``, ``accuracy``
and ``val_accuracy``, each of a detector's loss terms), values logged only on
validation alone (a detector's COCO ``val_bbox_AP``, ``val_segm_AP``, ...; epochs
without an evaluation are ``NA`` and left as gaps); then the learning rate of every
update from ``lr.csv`` where the run has one (log scale when it spans more than a
factor of 100).
"""

import csv
import math
import os

from keras_zoo.train import plots

NOT_A_NUMBER = ("", "NA", "nan")  # what CSVLogger and our logs write for "no value"


def read_csv_columns(path):
    """``{column: [float, ...]}`` of a CSV file with a header (``nan`` for missing
    values); a FileNotFoundError naming the file when it is not there."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected a keras-zoo run directory with {os.path.basename(path)}"
                                f". Received: {path!r} does not exist")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    columns = {name: [] for name in (rows[0] if rows else {})}
    for row in rows:
        for name in columns:
            value = row.get(name)
            columns[name].append(math.nan if value in NOT_A_NUMBER or value is None
                                 else float(value))
    return columns


def panels(columns):
    """``[(title, [column, ...]), ...]``: each quantity with its ``val_`` twin, the loss
    first, then in the log's order."""
    names = [c for c in columns if c != "epoch"]
    order = []
    for name in names:
        base = name[len("val_"):] if name.startswith("val_") else name
        if base not in order:
            order.append(base)
    order.sort(key=lambda base: base != "loss")
    return [(base, [c for c in (base, f"val_{base}") if c in columns]) for base in order]


def plot_run(run_dir, out=None):
    """Draws `run_dir`'s curves (`draw_run`) into a PNG; returns its path (default
    ``RUN_DIR/plots/curves.png``)."""
    path = out or os.path.join(run_dir, "plots", "curves.png")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    plots.save(draw_run(run_dir), path)
    return path


def draw_run(run_dir):
    """The matplotlib figure of `run_dir`'s curves (the module docstring)."""
    log = read_csv_columns(os.path.join(run_dir, "log.csv"))
    groups = panels(log)
    lr_path = os.path.join(run_dir, "lr.csv")
    rates = read_csv_columns(lr_path) if os.path.isfile(lr_path) else None
    if not groups and rates is None:
        raise ValueError(f"Expected epochs logged in {os.path.join(run_dir, 'log.csv')}. "
                         "Received: no rows yet")
    count = len(groups) + (rates is not None)
    fig, axes = plots.figure(count, columns=min(3, count), panel_size=(4.6, 3.2))
    epochs = [e + 1 for e in log.get("epoch", [])]  # CSVLogger counts epochs from 0
    for ax, (title, names) in zip(axes, groups):
        for name in names:
            ax.plot(epochs, log[name], marker="o", markersize=3,
                    label="validation" if name.startswith("val_") else "training")
        ax.set(title=title, xlabel="epoch")
        ax.legend()
    if rates is not None:
        ax = axes[-1]
        values = [v for v in rates["learning_rate"] if v > 0]
        ax.plot(rates["step"], rates["learning_rate"])
        if values and max(values) > 100 * min(values):
            ax.set_yscale("log")
        ax.set(title="learning rate", xlabel="update")
    fig.suptitle(os.path.basename(os.path.abspath(run_dir)))
    return fig
