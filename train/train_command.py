"""``keras-zoo train [MODEL]``: train MODEL with its paper recipe (`keras_zoo.train.run`).

Without MODEL, the quick-start: ResNet-20 on scikit-learn's digits (no
download). Ctrl-C leaves the run resumable: the one line it prints names the
command that resumes it (the run directory, when ``--out`` was not given).
``--set KEY=VALUE`` replaces one of the recipe's settings (the value read as
JSON, else as a string; of the setting's type), e.g. ``--set use_roi_align=false``.
"""

import argparse
import json
import os
import sys

from keras_zoo.train import cli_errors, datasets, registry, run, strategies


def add_parser(sub):
    """Adds the ``train`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("train", description="Train MODEL with its paper recipe; without MODEL, "
                       "the quick-start: ResNet-20 on scikit-learn's digits (no download).")
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
    p.add_argument("--task-index", type=int, help="with --workers: this worker's index in "
                   "--workers (default 0, the chief)")
    p.add_argument("--worker-timeout", type=float, default=None, metavar="SECONDS",
                   help="with --strategy multiworker: how long the workers wait for each "
                   "other to start (default 600)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="mixed_bfloat16 on CPU, mixed_float16 on GPU")
    p.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=None,
                   help="XLA-compile the train step (default: Keras's choice: on for one "
                   "GPU, off on CPU and with a distribution strategy)")
    p.add_argument("--sync-bn", action="store_true",
                   help="batch normalisation statistics over all replicas (with --strategy "
                   "mirrored or multiworker); recipes whose models train batch normalisation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--validation-split", type=float,
                   help="training images held out for validation: a count (5000: the paper's "
                   "45k/5k) or a fraction in (0, 1)")
    p.add_argument("--tiny", action="store_true", help="the recipe's CPU smoke-test size")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="replace a setting of the recipe (config.json's keys), e.g. "
                   "use_roi_align=false; repeatable")
    for split in ("train", "val", "test"):
        p.add_argument(f"--{split}-annotations", metavar="JSON",
                       help=f"COCO-format {split} annotations (Mask R-CNN; with "
                       f"--{split}-images; replaces --data-dir's)")
        p.add_argument(f"--{split}-images", metavar="DIR", help=f"the {split} images' folder")
    p.add_argument("--init", nargs="+", metavar="[FORMAT] PATH",
                   help="start from converted weights, class layers replaced: 'torchvision "
                   "FILE.pth' (mask-rcnn: torchvision's maskrcnn_resnet50_fpn) or a "
                   "keras.applications ResNet50/101/152 FILE.h5 (resnet50 ... resnet152; "
                   "without --recipe: fine-tuning, the resnet_finetune recipe)")
    return p


def _value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def overrides(args):
    """The recipe settings the command line replaces (`run.make_config`'s `overrides`):
    ``--set`` pairs, the COCO-format files (``data_files``) and ``--init``."""
    found = {}
    for pair in args.settings:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"Expected --set KEY=VALUE. Received: --set {pair!r}")
        found[key] = _value(text)
    files = {}
    for split in ("train", "val", "test"):
        annotations = getattr(args, f"{split}_annotations")
        images = getattr(args, f"{split}_images")
        if (annotations is None) != (images is None):
            raise ValueError(f"Expected --{split}-annotations and --{split}-images together. "
                             f"Received: only --{split}-"
                             f"{'annotations' if images is None else 'images'}")
        if annotations is not None:
            files[split] = [os.path.abspath(annotations), os.path.abspath(images)]
    if files:
        found["data_files"] = files
    if args.init is not None:
        found["init"] = _init(args.init)
    return found


def _init(values):
    """``[kind, absolute path]`` of ``--init [FORMAT] PATH`` (the kind of a lone PATH:
    `initial_weights.init_kind`)."""
    from keras_zoo.train.recipes.initial_weights import init_kind

    if len(values) > 2:
        raise ValueError(f"Expected --init PATH or --init FORMAT PATH. Received: --init "
                         f"{' '.join(values)}")
    path = os.path.abspath(values[-1])
    return [values[0] if len(values) == 2 else init_kind(path), path]


def _recipe(args):
    """``--recipe``, else resnet_finetune for ``--init`` on a model of resnet_imagenet."""
    entry = registry.MODELS.get(args.model)
    if args.recipe is None and args.init is not None and entry is not None \
            and entry.recipe_name == "resnet_imagenet":
        return "resnet_finetune"
    return args.recipe


def _set_tf_config(args):
    from keras_zoo.train import multiworker

    if args.worker_timeout is not None and not args.worker_timeout > 0:
        raise ValueError(f"Expected --worker-timeout > 0 seconds. Received: "
                         f"{args.worker_timeout:g}")
    if args.workers is None:
        if args.task_index is not None:
            raise ValueError(f"Expected --task-index only with --workers (with TF_CONFIG, its "
                             f"task index is used). Received: --task-index {args.task_index} "
                             f"without --workers")
        return
    if args.strategy != "multiworker":
        raise ValueError(f"Expected --workers only with --strategy multiworker. "
                         f"Received: --strategy {args.strategy}")
    os.environ["TF_CONFIG"] = multiworker.tf_config(args.workers, args.task_index or 0)


def command(args):
    """Trains; prints the run directory and the test metrics. A diverged run
    prints one line and returns 1."""
    _set_tf_config(args)
    split = args.validation_split
    if split is not None and split >= 1 and float(split).is_integer():
        split = int(split)
    out = args.out
    if out is None and args.strategy != "multiworker":  # workers must agree: no timestamp
        out = run.default_run_dir(args.model or run.QUICKSTART[0])
    try:
        result = run.train(
            args.model, recipe=_recipe(args), dataset=args.dataset, data_dir=args.data_dir,
            out=out, overwrite=args.overwrite, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, validation_split=split, strategy=args.strategy,
            mixed_precision=args.mixed_precision, jit_compile=args.jit_compile, tiny=args.tiny,
            sync_bn=args.sync_bn, overrides=overrides(args),
            **({} if args.worker_timeout is None else {"worker_timeout": args.worker_timeout}))
    except KeyboardInterrupt:
        again = "the same command" if args.out else f"the same command with --out {out}"
        raise cli_errors.Interrupted(f"run {again} to resume the run in {out}") from None
    except run.TrainingDiverged as error:
        print(f"keras-zoo train: error: {cli_errors.one_line(error)}", file=sys.stderr)
        return cli_errors.FAILED
    if not result.chief:
        print("Run directory: written by the chief (worker 0) in its --out")
        for line in result.report:
            print(line)
        return 0
    made = ["checkpoints/", "log.csv", "lr.csv", "tensorboard/"] + [
        f"{name}/" for name in ("saved_model/1", "predictions", f"evaluation/{result.split}")
        if os.path.isdir(os.path.join(result.run_dir, name))]
    print(f"Run directory: {result.run_dir} ({', '.join(made)})")
    for line in result.report:
        print(line)
    return 0
