"""``keras-zoo plot RUN_DIR``: a run's loss, metrics and learning rate as a PNG.

    keras-zoo plot runs/resnet20-20261128-101500            # -> RUN_DIR/plots/curves.png
    keras-zoo plot runs/mask-rcnn-tiny-... --out curves.png # a detector's COCO AP too

Reads ``log.csv`` and ``lr.csv`` only (no TensorFlow): it works while the run trains.
"""

import os

from keras_zoo.train.directory_lock import lock_directory


def add_parser(sub):
    p = sub.add_parser("plot", help="draw a run's loss, metrics and learning rate (PNG)",
                       description=__doc__.split("\n")[0])
    p.add_argument("run_dir", help="a keras-zoo run directory (with log.csv)")
    p.add_argument("--out", default=None,
                   help="the PNG to write (default: RUN_DIR/plots/curves.png)")
    return p


def command(args):
    """Draws the curves; prints the PNG's path; returns 0."""
    from keras_zoo.train.run_plots import plot_run

    if not os.path.isdir(args.run_dir):
        raise FileNotFoundError(f"Expected a keras-zoo run directory. Received: "
                                f"{args.run_dir!r} does not exist")
    if args.out is None:
        lock_directory(os.path.join(args.run_dir, "plots"), what="the plots directory")
    print(f"Plotted: {plot_run(args.run_dir, args.out)}")
    return 0
