"""``keras-zoo predict RUN_DIR IMAGE... --out DIR``: a detector's predictions on images.

    keras-zoo predict runs/mask-rcnn-tiny-20260101-120000 street.jpg more/*.png --out pics/
    keras-zoo predict mask_rcnn_resnet50_fpn_v2_coco street.jpg --out pics/   # a preset

RUN_DIR is a detector run or a detector preset (``keras-zoo convert``). ``--precision auto``
(the default) predicts in mixed_bfloat16 where the CPU multiplies bfloat16 natively
(`keras_zoo.train.precision`), saying so in one line.

Writes ``DIR/<image name>.png`` per image (boxes, class names, scores and translucent
masks over the image) and ``DIR/detections.json`` (per image: its file, size and
detections with the dataset's category ids and names, ``bbox`` ``[x, y, w, h]`` in the
image's pixels, RLE masks; `keras_zoo.train.predictions`). Existing outputs are kept
unless ``--overwrite``.
"""


def add_parser(sub):
    """Adds the ``predict`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("predict", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a Mask R-CNN run (mask-rcnn, ...) or a "
                   "detector preset")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any format "
                   "Pillow reads)")
    p.add_argument("--out", required=True, help="folder for the pictures and detections.json")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--score-threshold", type=float, default=0.5,
                   help="draw and list detections scoring at least this (default 0.5)")
    p.add_argument("--overwrite", action="store_true", help="replace earlier outputs in --out")
    add_precision_argument(p)
    return p


def add_precision_argument(parser):
    """``--precision`` (`keras_zoo.train.precision`), shared with ``keras-zoo evaluate``."""
    parser.add_argument("--precision", default="auto", choices=("auto", "float32", "bfloat16"),
                        help="inference dtype: auto (default) is bfloat16 for detectors and "
                        "presets on CPUs with AVX512_BF16 or AMX, else float32")


def command(args):
    """Writes the pictures and the JSON; prints where."""
    from keras_zoo.train.datasets import CocoCategories
    from keras_zoo.train.model_source import open_source
    from keras_zoo.train.predictions import output_paths, write_predictions

    source = open_source(args.run_dir, checkpoint=args.checkpoint, fields=("recipe",))
    if not source.is_detector:
        what = (f"a preset of {source.metadata['class_name'].split('>')[-1]}" if source.is_preset
                else f"a {source.config['recipe']!r} run")
        raise ValueError(f"Expected a run of a detector recipe (mask-rcnn, mask-rcnn-r101, "
                         f"mask-rcnn-tiny), whose config.json holds its categories, or a "
                         f"detector preset. Received: {args.run_dir!r}, {what}")
    if not 0 <= args.score_threshold <= 1:
        raise ValueError(f"Expected --score-threshold in [0, 1]. Received: "
                         f"{args.score_threshold}")
    output_paths(args.images, args.out, overwrite=args.overwrite)  # before loading a model
    model = source.load(args.precision)
    with source.running():
        written = write_predictions(model, args.images, CocoCategories.from_json(
            source.config["categories"]), args.out, score_threshold=args.score_threshold,
            overwrite=args.overwrite)
    print(f"Wrote {len(written) - 1} pictures and {written[-1]}")
    return 0
