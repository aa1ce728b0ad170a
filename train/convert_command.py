"""``keras-zoo convert``: published weights -> a keras_zoo preset directory.

    keras-zoo convert torchvision maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth --out mask_rcnn_v2
    keras-zoo convert torchvision fasterrcnn_resnet50_fpn_coco-258fb6c6.pth --out det \\
        --num-classes 6                 # fresh class layers for 5 classes + background
    keras-zoo convert keras-applications resnet50_weights_tf_dim_ordering_tf_kernels.h5 \\
        --out resnet50_imagenet         # ResNet-50/101/152, with or without the top

torchvision: any of its four ResNet-50-FPN detector files (Mask / Faster R-CNN, v1 and
v2; `models.mask_rcnn.from_torchvision` recognises which), read with torch. The
categories (COCO's names at torchvision's indices: `coco_index_categories`), the source
file, its SHA-256 and, for a file `known_presets` lists, its URL and published COCO AP go
into ``metadata.json``.
keras-applications: the ``.h5`` file of ``keras.applications.ResNet50/101/152``, read by
keras.applications and converted exactly (biases folded into BN): an `ImageClassifier`
(with the top) or a `ResNetBackbone` (without).

The preset is written to a temporary sibling of ``--out``, loaded back from there and run
on a probe image next to the converted model; only when both agree (detections matched
at box IoU >= 0.98 with scores within 1e-4, `export.detections.match_detections`;
classifier outputs within 1e-5 of their range: the same weights and graph, so only
float32 reassociation differs) is it renamed into place. An existing ``--out`` is refused
without ``--overwrite``. Two converts into one ``--out`` at once: the second is refused
(`directory_lock.lock_target`: the lock file ``.<name>.keras-zoo.lock`` beside ``--out``).
"""

import hashlib
import os
import sys

from keras_zoo.train.directory_lock import lock_target

KINDS = ("torchvision", "keras-applications")
PROBE_SIZE = (240, 320)  # detectors check at this size (min_size / max_size set to it)
SCORE_TOLERANCE = 1e-4  # same weights and graph: float32 reassociation only
OUTPUT_RTOL = 1e-5


def add_parser(sub):
    """Adds the ``convert`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("convert", description=__doc__.split("\n")[0])
    p.add_argument("kind", choices=KINDS, help="where the weights file comes from")
    p.add_argument("file", metavar="FILE", help="torchvision .pth or keras.applications .h5")
    p.add_argument("--out", required=True, help="the preset directory to write")
    p.add_argument("--num-classes", type=int, help="torchvision: fresh class layers for this "
                   "many classes (background included), for fine-tuning")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    return p


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _provenance(kind, path, architecture, fresh_classes):
    from keras_zoo.models.known_presets import download_url, find_known_file

    name, entry = find_known_file(path)
    weights = {"source": kind, "architecture": architecture, "file": os.path.basename(path),
               "sha256": _sha256(path)}
    if entry is not None and entry["architecture"] == architecture:
        weights.update(preset=name, url=download_url(entry))
        if not fresh_classes:
            weights["published"] = entry["published"]
    return weights


def probe_image(seed=0):
    """A smooth gradient with a few bright rectangles (uint8 ``PROBE_SIZE`` x 3)."""
    import numpy as np

    height, width = PROBE_SIZE
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    image = np.stack([xx * 255 // width, yy * 255 // height, np.full_like(xx, 90)], -1)
    for _ in range(4):
        y, x = rng.integers(0, height - 60), rng.integers(0, width - 80)
        image[y:y + rng.integers(30, 60), x:x + rng.integers(40, 80)] = rng.integers(0, 256, 3)
    return image.astype(np.uint8)


def _check_detector(model, cls, directory):
    from keras_zoo.export.detections import match_detections

    image = probe_image()[None]
    probe = {"score_threshold": 0.0, "min_size": PROBE_SIZE[0], "max_size": PROBE_SIZE[1]}
    ours = model.replace(**probe).predict(image, verbose=0)
    loaded = cls.from_preset(directory, **probe).predict(image, verbose=0)
    match_detections(ours, loaded, tolerance=SCORE_TOLERANCE, top=20,
                     what=f"The preset written to {directory}")
    return f"its top 20 detections on a probe image match (box IoU >= 0.98, scores within " \
           f"{SCORE_TOLERANCE:g})"


def _check_classifier(model, cls, directory):
    import numpy as np

    size = model.inputs[0].shape[1:3]
    image = probe_image()
    if None not in tuple(size):
        image = image[:size[0], :size[1]]
    ours = model.predict(image[None], verbose=0)
    loaded = cls.from_preset(directory).predict(image[None], verbose=0)
    ours, loaded = (o["C5"] if isinstance(o, dict) else o for o in (ours, loaded))
    bound = OUTPUT_RTOL * float(np.abs(ours).max())
    error = float(np.abs(ours - loaded).max())
    if not error <= bound:
        raise ValueError(f"Expected the preset written to {directory} to compute what the "
                         f"converted model does. Received: outputs {error:.3g} apart (bound "
                         f"{bound:.3g})")
    return f"its outputs on a probe image are within {OUTPUT_RTOL:g} of their range"


def convert(kind, path, out, *, num_classes=None, overwrite=False):
    """Converts `path` into the preset directory `out` (see the module docstring);
    returns the lines to print."""
    import numpy as np

    from keras_zoo import models
    from keras_zoo.models.preset import save_preset
    from keras_zoo.train.datasets.coco_categories import coco_index_categories

    if kind not in KINDS:
        raise ValueError(f"Expected a kind in {KINDS}. Received: {kind!r}")
    if os.path.lexists(out) and not overwrite:
        raise ValueError(f"Expected --out to be a new directory (or --overwrite). Received: "
                         f"{out} exists")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected a {kind} weights file. Received: {path!r} does not "
                                f"exist")
    if kind == "torchvision":
        from keras_zoo.models.mask_rcnn import (
            detect_architecture,
            from_torchvision,
            read_state_dict,
        )

        architecture = detect_architecture(read_state_dict(path)[0])
        model = from_torchvision(path, architecture=architecture, num_classes=num_classes)
        fresh = num_classes is not None
        metadata = {"categories": None if fresh or model.num_classes != 91
                    else coco_index_categories(model.num_classes)}
        check = _check_detector
    else:
        if num_classes is not None:
            raise ValueError(f"Expected --num-classes only for torchvision detectors (put a new "
                             f"classifier on a backbone with --init when training). Received: "
                             f"--num-classes {num_classes}")
        from keras_zoo.train.recipes.initial_weights import keras_applications_file

        architecture, model = keras_applications_file(path)
        fresh, metadata, check = False, {"class_names": None}, _check_classifier
        if isinstance(model, models.ImageClassifier):
            metadata["labels"] = ("ImageNet-1k classes in keras.applications' order (WordNet "
                                  "ids sorted, n01440764 first)")
    metadata["weights"] = _provenance(kind, path, architecture, fresh)
    cls = type(model)
    verified = []
    lock_target(out, what="--out")  # save_preset checks `out` again under the lock
    save_preset(model, out, metadata=metadata, overwrite=overwrite,
                check=lambda tmp: verified.append(check(model, cls, tmp)))
    size = os.path.getsize(os.path.join(out, "model.weights.h5")) / 2**20
    classes = getattr(model, "num_classes", None)
    statistics = sum(int(np.prod(w.shape)) for w in model.weights if "moving_" in w.path)
    article = "an" if cls.__name__[0] in "AEIOU" else "a"
    return [f"Converted {os.path.basename(path)} ({kind} {architecture}) into {out}: {article} "
            f"{cls.__name__} of {model.count_params() - statistics:,} parameters (and "
            f"{statistics:,} batch-norm statistics)" + (f", {classes} classes" if classes else ""),
            f"  config.json, model.weights.h5 ({size:.1f} MiB), metadata.json",
            f"  verified: reloaded from the written files, {verified[0]}",
            f"  load it with models.{cls.__name__}.from_preset({out!r})"]


def command(args):
    """Converts and prints what it made. TensorFlow starts here, after torch: torch must
    be imported first in a process that runs both."""
    from keras_zoo.train import tf_startup

    debug = os.environ.get("KERAS_ZOO_DEBUG") == "1"
    if args.kind == "torchvision":
        try:
            import torch  # noqa: F401
        except ImportError as error:
            raise ModuleNotFoundError(error.msg, name="torch") from None
    tf_startup.start_tensorflow(debug=debug)
    for line in convert(args.kind, args.file, args.out, num_classes=args.num_classes,
                        overwrite=args.overwrite):
        print(line)
    sys.stdout.flush()
    return 0
