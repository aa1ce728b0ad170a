"""The ``keras-zoo`` command line.

    keras-zoo models                      every model with its parameter count
    keras-zoo train [MODEL] [options]     train (no MODEL: the quick-start, ResNet-20 on digits)
    keras-zoo evaluate RUN_DIR            test metrics of a run's checkpoint
    keras-zoo export RUN_DIR --format F   SavedModel / TFLite / ONNX (see export_command)
    keras-zoo search [options]            architecture search (see nas/command.py)

User errors (unknown names, missing or malformed data, an existing --out, a
wrong input shape) print one line on stderr and exit with status 2; a
diverged run (NaN loss) prints one line and exits with status 1. Set
``KERAS_ZOO_DEBUG=1`` to see the traceback instead.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

USER_ERROR = 2
DIVERGED = 1


def _add_train(sub):
    from keras_zoo.train import datasets, registry, run, strategies

    p = sub.add_parser("train", help="train a model (no MODEL: the quick-start)",
                       description="Train MODEL with its paper recipe; without MODEL, the "
                       "quick-start: ResNet-20 on scikit-learn's digits (no download).")
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help=f"one of: {', '.join(registry.MODELS)} (default: the quick-start)")
    p.add_argument("--recipe", help=f"one of: {', '.join(run.recipe_names())} "
                   "(default: the model's paper recipe)")
    p.add_argument("--dataset", help=f"one of: {', '.join(datasets.NAMES)} "
                   "(default: the model's dataset)")
    p.add_argument("--data-dir", help="where the dataset's files are (not for digits)")
    p.add_argument("--out", help="run directory (default: ./runs/<model>-<YYYYmmdd-HHMMSS>); "
                   "an unfinished run of the same configuration is resumed")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in --out instead of refusing")
    p.add_argument("--epochs", type=int, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, help="global batch size (default: the recipe's)")
    p.add_argument("--strategy", default="default", choices=sorted(strategies.STRATEGIES))
    p.add_argument("--workers", help="with --strategy multiworker: host:port of every worker, "
                   "comma-separated, the same on each (default: TF_CONFIG from the environment)")
    p.add_argument("--task-index", type=int, default=0, help="this worker's index in --workers "
                   "(0 is the chief)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_bfloat16 on CPU, mixed_float16 on GPU")
    p.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=None,
                   help="XLA-compile the train step (default: Keras's choice: on for one "
                   "GPU, off on CPU and with a distribution strategy)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--validation-split", type=float,
                   help="training images held out for validation: a count (5000: the paper's "
                   "45k/5k) or a fraction in (0, 1)")
    p.add_argument("--tiny", action="store_true", help="the recipe's CPU smoke-test size")


def _cmd_models(args):
    import keras
    import numpy as np
    from keras_zoo.train import registry

    names = args.names or list(registry.MODELS)
    entries = {name: registry.get(name) for name in names}
    width = max(map(len, names))
    print(f"{'model':<{width}}  {'trainable':>12}  {'all params':>12}  dataset  recipe")
    for name, entry in entries.items():
        model = entry.builder()
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        recipe = entry.recipe.__name__.rsplit(".", 1)[-1]
        print(f"{name:<{width}}  {trainable:>12,d}  {model.count_params():>12,d}  "
              f"{entry.dataset or '-':<7}  {recipe}", flush=True)
        del model
        keras.backend.clear_session()
    return 0


def _cmd_train(args):
    from keras_zoo.train import multiworker, run

    if args.workers is not None:
        if args.strategy != "multiworker":
            raise ValueError(f"Expected --workers only with --strategy multiworker. "
                             f"Received: --strategy {args.strategy}")
        os.environ["TF_CONFIG"] = multiworker.tf_config(args.workers, args.task_index)

    split = args.validation_split
    if split is not None and split >= 1 and float(split).is_integer():
        split = int(split)
    result = run.train(
        args.model, recipe=args.recipe, dataset=args.dataset, data_dir=args.data_dir,
        out=args.out, overwrite=args.overwrite, epochs=args.epochs, batch_size=args.batch_size,
        seed=args.seed, validation_split=split, strategy=args.strategy,
        mixed_precision=args.mixed_precision, jit_compile=args.jit_compile, tiny=args.tiny)
    saved = ", saved_model/1/" if os.path.isdir(os.path.join(result.run_dir, "saved_model")) else ""
    print(f"Run directory: {result.run_dir} (checkpoints/, log.csv, tensorboard/{saved})")
    for name, value in result.test.items():
        print(f"test {name}: {value:.4f}")
    return 0


def _cmd_evaluate(args):
    from keras_zoo.train import run

    metrics = run.evaluate(args.run_dir, checkpoint=args.checkpoint, data_dir=args.data_dir)
    for name, value in metrics.items():
        print(f"test {name}: {value:.4f}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-zoo", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("models", help="list every model with its parameter count")
    p.add_argument("names", nargs="*", metavar="MODEL", help="only these models")
    _add_train(sub)
    p = sub.add_parser("evaluate", help="test metrics of a run")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--data-dir", help="the dataset's files, if they moved since training")
    from keras_zoo.train import export_command

    export_command.add_parser(sub)
    from keras_zoo.train.nas import command as nas_command

    nas_command.add_parser(sub)
    return parser


def _cmd_export(args):
    from keras_zoo.train import export_command

    return export_command.command(args)


def _cmd_search(args):
    from keras_zoo.train.nas import command as nas_command

    return nas_command.command(args)


COMMANDS = {"models": _cmd_models, "train": _cmd_train, "evaluate": _cmd_evaluate,
            "export": _cmd_export, "search": _cmd_search}


def main(argv=None):
    """Entry point of ``keras-zoo``; returns the exit status."""
    args = build_parser().parse_args(argv)
    from keras_zoo.train.run import TrainingDiverged

    debug = os.environ.get("KERAS_ZOO_DEBUG") == "1"
    try:
        return COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError) as e:
        if debug:
            raise
        print(f"keras-zoo {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return USER_ERROR
    except TrainingDiverged as e:
        if debug:
            raise
        print(f"keras-zoo train: error: {_one_line(e)}", file=sys.stderr)
        return DIVERGED


def _one_line(error):
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())
