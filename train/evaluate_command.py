"""``keras-zoo evaluate RUN_DIR``: the test metrics of a run's checkpoint."""


def add_parser(sub):
    """Adds the ``evaluate`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("evaluate", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--data-dir", help="the dataset's files, if they moved since training")
    return p


def command(args):
    """Prints ``test <metric>: <value>`` lines."""
    from keras_zoo.train import run

    metrics = run.evaluate(args.run_dir, checkpoint=args.checkpoint, data_dir=args.data_dir)
    for name, value in metrics.items():
        print(f"test {name}: {value:.4f}")
    return 0
