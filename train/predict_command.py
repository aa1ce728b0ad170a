"""``keras-zoo predict RUN_DIR IMAGE... --out DIR``: a detector run's predictions on images.

    keras-zoo predict runs/mask-rcnn-tiny-20260101-120000 street.jpg more/*.png --out pics/

Writes ``DIR/<image name>.png`` per image (boxes, class names, scores and translucent
masks over the image) and ``DIR/detections.json`` (per image: its file, size and
detections with the dataset's category ids and names, ``bbox`` ``[x, y, w, h]`` in the
image's pixels, RLE masks; `keras_zoo.train.predictions`). Existing outputs are kept
unless ``--overwrite``.
"""


def add_parser(sub):
    """Adds the ``predict`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("predict", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR", help="a Mask R-CNN run (mask-rcnn, ...)")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any format "
                   "Pillow reads)")
    p.add_argument("--out", required=True, help="folder for the pictures and detections.json")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--score-threshold", type=float, default=0.5,
                   help="draw and list detections scoring at least this (default 0.5)")
    p.add_argument("--overwrite", action="store_true", help="replace earlier outputs in --out")
    return p


def command(args):
    """Writes the pictures and the JSON; prints where."""
    from keras_zoo.train.datasets import CocoCategories
    from keras_zoo.train.predictions import output_paths, write_predictions
    from keras_zoo.train.run_dir import load_checkpoint, read_config

    config, _ = read_config(args.run_dir, fields=("recipe",))
    if "categories" not in config:
        raise ValueError(f"Expected a run of a detector recipe (mask-rcnn, mask-rcnn-r101, "
                         f"mask-rcnn-tiny), whose config.json holds its categories. Received: "
                         f"{args.run_dir!r}, a {config['recipe']!r} run")
    if not 0 <= args.score_threshold <= 1:
        raise ValueError(f"Expected --score-threshold in [0, 1]. Received: "
                         f"{args.score_threshold}")
    output_paths(args.images, args.out, overwrite=args.overwrite)  # before loading a model
    model = load_checkpoint(args.run_dir, args.checkpoint)
    written = write_predictions(model, args.images, CocoCategories.from_json(
        config["categories"]), args.out, score_threshold=args.score_threshold,
        overwrite=args.overwrite)
    print(f"Wrote {len(written) - 1} pictures and {written[-1]}")
    return 0
