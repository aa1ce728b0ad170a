"""``keras-zoo export RUN_DIR``: a run's checkpoint to SavedModel, TFLite or ONNX.

    keras-zoo export RUN_DIR --format saved_model   # RUN_DIR/saved_model/<next version>
    keras-zoo export RUN_DIR --format tflite --quantize int8   # RUN_DIR/export/model_int8.tflite
    keras-zoo export RUN_DIR --format onnx --out resnet20.onnx
    keras-zoo export MASK_RCNN_RUN --format tflite --input-size 800 1216   # a fixed image size

What a run exports is its recipe's `Recipe.artifacts`: one model for a
classifier; a concrete-vae run exports its encoder and decoder as two
artifacts (`saved_model/encoder/<v>`, `saved_model/decoder/<v>`;
`model_encoder.tflite`, ...). A detector (mask-rcnn runs) exports a SavedModel
of dynamic image size with a ``pasted_masks`` signature beside
``serving_default``, and a TFLite model at the fixed ``--input-size`` (float32,
float16 or dynamic; int8 and ONNX take classifiers only).

The conversion itself lives in `keras_zoo.export` (any keras.Model); this
module only reads the run directory (config.json, checkpoints/last.keras)
and, for int8, draws the representative images from the run's training set.
"""

import os
import sys

from keras_zoo.train.directory_lock import lock_directory

FORMATS = ("saved_model", "tflite", "onnx")


def add_parser(sub):
    """Adds the ``export`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("export", help="export a run to SavedModel (TF Serving), TFLite or ONNX",
                       description=__doc__.split("\n")[0])
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--format", required=True, choices=FORMATS)
    p.add_argument("--quantize", choices=("float16", "dynamic", "int8"),
                   help="TFLite post-training quantization (int8 calibrates on the run's "
                   "training images)")
    p.add_argument("--input-size", type=int, nargs=2, metavar=("HEIGHT", "WIDTH"),
                   help="tflite: the fixed image size (required for a detector, which "
                   "serves any size as a SavedModel)")
    p.add_argument("--int8-io", action="store_true", help="with --quantize int8: int8 input "
                   "and output tensors")
    p.add_argument("--out", help="saved_model: the model base directory (default "
                   "RUN_DIR/saved_model); tflite/onnx: the file or a directory for it "
                   "(default RUN_DIR/export/)")
    p.add_argument("--version", type=int, help="saved_model version (default: one above the "
                   "highest in --out)")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"))
    p.add_argument("--data-dir", help="the dataset's files, if they moved since training "
                   "(int8 only)")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip loading the artifact back and comparing with Keras")
    p.add_argument("--overwrite", action="store_true", help="replace an existing artifact")
    return p


def _next_version(base):
    versions = [int(n) for n in os.listdir(base) if n.isdigit()] if os.path.isdir(base) else []
    return max(versions, default=0) + 1


def _file_path(run_dir, out, suffix):
    """Where a file artifact goes: ``RUN/export/model<suffix>`` (a directory keras-zoo
    owns, locked), or the user's ``--out`` file or folder (written by atomic rename)."""
    if out is None:
        lock_directory(os.path.join(run_dir, "export"), what="the export directory")
        return os.path.join(run_dir, "export", f"model{suffix}")
    if out.endswith(suffix.rsplit(".", 1)[-1]) and not os.path.isdir(out):
        return out
    return os.path.join(out, f"model{suffix}")


def export_run(run_dir, *, format, quantize=None, int8_io=False, out=None, version=None,
               checkpoint="last", data_dir=None, verify=True, overwrite=False,
               input_size=None):
    """Exports `run_dir`'s checkpoint; returns the list of artifact paths, one per
    artifact of the run (its recipe's `Recipe.artifacts`, see the module docstring)."""
    from keras_zoo import export
    from keras_zoo.export.variants import offers_variants
    from keras_zoo.train.run_dir import load_checkpoint, read_config

    if format not in FORMATS:
        raise ValueError(f"Expected format in {FORMATS}. Received: format={format!r}")
    if quantize is not None and format != "tflite":
        raise ValueError(f"Expected --quantize only with --format tflite. Received: "
                         f"format={format!r}, quantize={quantize!r}")
    if version is not None and format != "saved_model":
        raise ValueError(f"Expected --version only with --format saved_model. Received: "
                         f"format={format!r}, version={version!r}")
    if input_size is not None and format != "tflite":
        raise ValueError(f"Expected --input-size only with --format tflite. Received: "
                         f"format={format!r}, input_size={tuple(input_size)}")
    config, recipe = read_config(run_dir, fields=("dataset",) if quantize == "int8" else ())
    model = load_checkpoint(run_dir, checkpoint)
    artifacts = recipe.artifacts(model)
    detector = any(offers_variants(a.model) for a in artifacts)
    if format == "tflite" and detector and input_size is None:
        raise ValueError(f"Expected --input-size HEIGHT WIDTH for a TFLite export of a "
                         f"{type(model).__name__} run: TFLite needs a fixed image size (e.g. "
                         f"--input-size 800 1216). Received: no --input-size")
    if (len(artifacts) > 1 or detector) and (quantize == "int8" or format == "onnx"):
        raise ValueError(f"Expected a classifier run for --format onnx or --quantize int8 "
                         f"(they calibrate or check on raw images). Received: a "
                         f"{type(model).__name__} run; use saved_model or float tflite")
    representative = None
    if quantize == "int8":
        representative = recipe.calibration_images(recipe.load_data(
            {"validation_split": 0, "seed": 0, **config,
             "data_dir": data_dir or config.get("data_dir")}))
    paths = []
    for artifact in artifacts:
        name, part, saved_model_kwargs = (artifact.name, artifact.model,
                                          artifact.saved_model_kwargs)
        tag = f"_{name}" if name else ""
        if format == "saved_model":
            base = out or os.path.join(run_dir, "saved_model")
            base = os.path.join(base, name) if name else base
            lock_directory(base, what="the SavedModel directory")
            part_version = _next_version(base) if version is None else version
            paths.append(export.to_saved_model(part, base, version=part_version,
                                               overwrite=overwrite, verify=verify,
                                               **saved_model_kwargs))
        elif format == "onnx":
            paths.append(export.to_onnx(part, _file_path(run_dir, out, f"{tag}.onnx"),
                                        verify=verify, overwrite=overwrite))
        else:
            suffix = f"{tag}_{quantize}.tflite" if quantize else f"{tag}.tflite"
            paths.append(export.to_tflite(part, _file_path(run_dir, out, suffix),
                                          quantize=quantize, representative_data=representative,
                                          int8_io=int8_io, verify=verify, overwrite=overwrite,
                                          input_size=input_size))
    return paths


def command(args):
    """The ``keras-zoo export`` handler: prints the artifact path and returns 0; a
    failed verification prints one line and returns 1."""
    from keras_zoo.export import ExportVerificationError

    try:
        paths = export_run(args.run_dir, format=args.format, quantize=args.quantize,
                          int8_io=args.int8_io, out=args.out, version=args.version,
                          checkpoint=args.checkpoint, data_dir=args.data_dir,
                          verify=args.verify, overwrite=args.overwrite,
                          input_size=args.input_size)
    except ImportError as error:  # the onnx extra is missing
        raise ValueError(f"Expected the packages of the 'onnx' extra. Received: {error}") from None
    except ExportVerificationError as error:
        print(f"keras-zoo export: verification failed, nothing written: {error}",
              file=sys.stderr)
        return 1
    for path in paths:
        print(f"Exported {args.format}{' ' + args.quantize if args.quantize else ''}: {path}")
    return 0
