"""``keras-zoo evaluate RUN_DIR``: the test (or val) metrics of a run's checkpoint; for a
Mask R-CNN run, COCOeval's bbox and segm tables, its results JSON written in the run.

RUN_DIR may be a preset (``keras-zoo convert``) with ``--data-dir``: ``keras-zoo evaluate
mask_rcnn_resnet50_fpn_coco --data-dir /data/coco --split val`` prints the COCOeval tables of
torchvision's converted weights (compare with its published box AP 37.9 / mask AP 34.6).
``--precision`` as ``keras-zoo predict``'s.
"""


CROPS = {"center": 1, "10": 10}  # --crops: the crops per image (config "crops")


def add_parser(sub):
    """Adds the ``evaluate`` subcommand to an argparse subparsers object."""
    from keras_zoo.train.predict_command import add_precision_argument

    p = sub.add_parser("evaluate", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--data-dir", help="the dataset's files, if they moved since training")
    p.add_argument("--split", choices=("val", "test"), help="default: test (a detection "
                   "dataset without a test split: val)")
    p.add_argument("--crops", choices=tuple(CROPS), help="ImageNet ResNets: the central "
                   "crop or the paper's 10 crops (default: the run's, center)")
    add_precision_argument(p)
    return p


def command(args):
    """Prints the recipe's report: ``test <metric>: <value>`` lines, or COCOeval's tables."""
    from keras_zoo.train import run

    _, _, lines = run.evaluation(args.run_dir, checkpoint=args.checkpoint,
                                 data_dir=args.data_dir, split=args.split,
                                 overrides={"crops": CROPS[args.crops]} if args.crops else None,
                                 precision=args.precision)
    for line in lines:
        print(line)
    return 0
