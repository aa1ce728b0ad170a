"""The ``keras-zoo`` command line.

    keras-zoo models                      every model with its parameter count
    keras-zoo train [MODEL] [options]     train (no MODEL: the quick-start, ResNet-20 on digits)
    keras-zoo evaluate RUN_DIR            test metrics of a run's checkpoint
    keras-zoo export RUN_DIR --format F   SavedModel / TFLite / ONNX (see export_command)
    keras-zoo predict RUN_DIR IMAGE...    pictures and JSON of a detector's predictions
    keras-zoo search [options]            architecture search (see nas/command.py)
    keras-zoo plot RUN_DIR                a run's loss, metrics and learning rate as a PNG

Exit status (`cli_errors` turns each exception into one line on stderr):

- 0: done.
- 1: the run diverged (NaN loss), an export failed its verification, or an
  unexpected internal error (a bug: one line saying so; ``KERAS_ZOO_DEBUG=1``
  shows the traceback).
- 2: a user error: unknown names, missing or malformed data, an existing
  --out, a wrong input shape, a broken run directory, a file that cannot be
  read or written (permissions, full disk), a missing optional extra.
- 130: interrupted (Ctrl-C); a training run resumes with the same command.

Set ``KERAS_ZOO_DEBUG=1`` to see tracebacks (and TensorFlow's start-up log,
and the exceptions Python ignores in ``__del__``) instead of one-line messages.

Each subcommand is a module with ``add_parser(subparsers)`` (adds and fills
its parser) and ``command(args)`` (runs it, returns the exit status), listed
in `SUBCOMMANDS` with its one-line help. Only the chosen subcommand's module is
imported, so ``keras-zoo --help`` starts no TensorFlow. A new subcommand is
its module plus one row.
"""

import argparse
import dataclasses
import importlib
import os
import sys

from keras_zoo.train import cli_errors, tf_startup


@dataclasses.dataclass(frozen=True)
class Subcommand:
    help: str  # the line `keras-zoo --help` shows
    module: str  # provides add_parser(subparsers) and command(args)
    tensorflow: bool = True  # start TensorFlow (quietly) before command(args)


SUBCOMMANDS = {
    "models": Subcommand("list every model with its parameter count",
                         "keras_zoo.train.models_command", tensorflow=False),
    "train": Subcommand("train a model (no MODEL: the quick-start)",
                        "keras_zoo.train.train_command"),
    "evaluate": Subcommand("test metrics of a run", "keras_zoo.train.evaluate_command"),
    "export": Subcommand("export a run to SavedModel (TF Serving), TFLite or ONNX",
                         "keras_zoo.train.export_command"),
    "predict": Subcommand("draw a detector run's predictions on images",
                          "keras_zoo.train.predict_command"),
    "search": Subcommand("neural architecture search (Zoph & Le 2016)",
                         "keras_zoo.train.nas.command"),
    "plot": Subcommand("draw a run's loss, metrics and learning rate (PNG)",
                       "keras_zoo.train.plot_command", tensorflow=False),
}


class _Parser(argparse.ArgumentParser):
    """Reports a bad command line in one line too (argparse prints its usage first)."""

    def error(self, message):
        self.exit(cli_errors.USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} "
                  f"--help)\n")


def build_parser(command=None):
    """The ``keras-zoo`` parser. `command` (a `SUBCOMMANDS` name) gets its full
    parser from its module; the others are listed with their help only."""
    parser = _Parser(prog="keras-zoo", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, subcommand in SUBCOMMANDS.items():
        if name == command:
            importlib.import_module(subcommand.module).add_parser(sub)
        else:
            sub.add_parser(name, help=subcommand.help)
    return parser


def main(argv=None):
    """Entry point of ``keras-zoo``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    debug = os.environ.get("KERAS_ZOO_DEBUG") == "1"
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    hook = sys.unraisablehook
    if not debug:  # e.g. h5py's __del__ after a full disk: dozens of "Exception ignored"
        sys.unraisablehook = _drop
    try:
        with tf_startup.quiet_startup(debug=debug):  # the module may import TensorFlow
            parser = build_parser(command)
        args = parser.parse_args(argv)
        if SUBCOMMANDS[args.command].tensorflow:
            tf_startup.start_tensorflow(debug=debug)
        return importlib.import_module(SUBCOMMANDS[args.command].module).command(args)
    except (Exception, KeyboardInterrupt) as error:
        if debug:
            raise
        status, message = cli_errors.describe(error)
        print(f"keras-zoo {command}: {message}", file=sys.stderr)
        return status
    finally:
        sys.unraisablehook = hook


def _drop(unraisable):
    """An exception Python cannot raise (in a __del__): shown only with KERAS_ZOO_DEBUG=1."""


if __name__ == "__main__":
    sys.exit(main())
