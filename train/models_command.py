"""``keras-zoo models [MODEL ...]``: every model of the registry with its parameter
counts (from the registry's table: nothing is built, TensorFlow is not started)."""

from keras_zoo.train import registry


def add_parser(sub):
    """Adds the ``models`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("models", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", metavar="MODEL",
                   help=f"only these models (of: {', '.join(registry.MODELS)})")
    return p


def command(args):
    """Prints one row per model: trainable and all parameters, dataset, recipe."""
    entries = {name: registry.get(name) for name in args.names or registry.MODELS}
    width = max(map(len, entries))
    data = max(len("dataset"), *(len(entry.dataset or "-") for entry in entries.values()))
    print(f"{'model':<{width}}  {'trainable':>12}  {'all params':>12}  {'dataset':<{data}}  "
          f"recipe")
    for name, entry in entries.items():
        print(f"{name:<{width}}  {entry.trainable_params:>12,d}  {entry.params:>12,d}  "
              f"{entry.dataset or '-':<{data}}  {entry.recipe_name}")
    return 0
