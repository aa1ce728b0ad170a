"""The shipped instance-segmentation dataset: scikit-learn's digits on canvases, in COCO format.

Mask R-CNN's quick start (``keras-zoo train mask-rcnn-tiny``) needs a dataset
with boxes and masks that ships without a download. scikit-learn ships 1,797
real 8x8 scans of handwritten digits (`digits.load_digits`); a seeded
generator pastes them, upscaled, at random scales, positions and colours on
canvases of 112..160 pixels a side, 2 to 6 per canvas, overlapping (a later
digit occludes an earlier one, which keeps at least 60% of its pixels). Each
instance's mask is its visible stroke pixels (opacity >= 0.5); its box is
the mask's tight box. Ten categories, ids 1..10 named "0".."9".

The files are real COCO (the same loader and evaluator read them):

    <folder>/annotations/instances_{train,val,test}.json
    <folder>/{train,val,test}/<image id>.png        RGB canvases

with run-length-encoded masks (``iscrowd`` 0). The splits take disjoint
scans: train the first 1,257 scans (1,500 canvases), val the next 180 (150
canvases), test the last 360 (300 canvases, the held-out scans of the
classification quick start).

Where the files go: the folder is generated on first use (about 20 s, 31 MB)
into the cache, ``$KERAS_ZOO_CACHE`` or else ``$XDG_CACHE_HOME/keras_zoo`` or
else ``~/.cache/keras_zoo``, as ``digits-instances-v<VERSION>``; never into
the working directory. It is written to a temporary folder renamed into place,
so an interrupted generation leaves nothing half-written, and two processes
generating at once both end with the same folder. The content depends only on
scikit-learn's scans and the seed (NumPy's PCG64 stream, integer arithmetic
for the pixels): the same on every machine.
"""

import json
import os
import shutil
import tempfile

import numpy as np

from .coco_masks import mask_to_rle
from .digits import bilinear_matrix

VERSION = 1  # bump whenever the generated files change
NAME = f"digits-instances-v{VERSION}"
SEED = 0
# split: (first scan, end scan, canvases)
SPLITS = {"train": (0, 1257, 1500), "val": (1257, 1437, 150), "test": (1437, 1797, 300)}
CANVAS_SIDES = (112, 160)  # canvas height and width, inclusive range
DIGIT_SIDES = (20, 48)  # pasted digit height, inclusive range; width 0.8..1.2 times it
DIGITS_PER_CANVAS = (2, 6)
MIN_VISIBLE = 0.6  # an occluded digit keeps at least this fraction of its mask
OPAQUE_AT = 10.0  # scan grey level (0..16) at which a stroke is fully opaque
MASK_OPACITY = 0.5  # mask = pixels of opacity >= 0.5
CATEGORIES = tuple({"id": d + 1, "name": str(d), "supercategory": "digit"} for d in range(10))


def cache_root():
    """The keras_zoo cache: ``$KERAS_ZOO_CACHE``, else ``$XDG_CACHE_HOME/keras_zoo``, else
    ``~/.cache/keras_zoo``."""
    if os.environ.get("KERAS_ZOO_CACHE"):
        return os.environ["KERAS_ZOO_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keras_zoo")


def digits_instances_dir(root=None):
    """The folder of the shipped dataset, generated into `root` (default `cache_root`) on
    first use. Returns its path."""
    folder = os.path.join(root or cache_root(), NAME)
    if not os.path.isdir(folder):
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=f".{NAME}-", dir=os.path.dirname(folder))
        try:
            generate(scratch)
            os.rename(scratch, folder)
        except OSError:
            if not os.path.isdir(folder):  # not a concurrent generator that won the rename
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return folder


def _scans():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images, bunch.target.astype(np.int64)


def _opacity(scan, height, width):
    """``[height, width]`` float opacity of an 8x8 scan upscaled bilinearly."""
    grey = bilinear_matrix(8, height) @ scan @ bilinear_matrix(8, width).T
    return np.clip(grey / OPAQUE_AT, 0.0, 1.0)


def _background(rng, height, width):
    """A vertical or horizontal gradient between two random colours, with grey noise in
    2x2 blocks (sigma 4: texture that PNG still compresses to ~7 KB a canvas)."""
    start, end = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    vertical = rng.random() < 0.5
    t = np.linspace(0.0, 1.0, height if vertical else width)[:, None]
    ramp = start + (end - start) * t  # [length, 3]
    image = np.broadcast_to(ramp[:, None] if vertical else ramp[None], (height, width, 3))
    noise = rng.normal(0.0, 4.0, ((height + 1) // 2, (width + 1) // 2, 1))
    return image + noise.repeat(2, 0).repeat(2, 1)[:height, :width]


def _contrasting_colour(rng, background):
    """A random colour whose mean level differs from the background's by at least 80."""
    level = background.mean()
    while True:
        colour = rng.integers(0, 256, 3)
        if abs(colour.mean() - level) >= 80:
            return colour


def render_canvas(rng, scans, labels, scan_range):
    """One canvas: ``(image uint8 [H, W, 3], [(label, visible mask bool [H, W]), ...])``."""
    height, width = (int(v) for v in rng.integers(CANVAS_SIDES[0], CANVAS_SIDES[1] + 1, 2))
    image = _background(rng, height, width)
    instances = []
    target = int(rng.integers(DIGITS_PER_CANVAS[0], DIGITS_PER_CANVAS[1] + 1))
    for _ in range(20 * target):  # placements that would hide too much of a digit are redrawn
        if len(instances) == target:
            break
        scan = int(rng.integers(*scan_range))
        h = int(rng.integers(DIGIT_SIDES[0], DIGIT_SIDES[1] + 1))
        w = int(round(h * rng.uniform(0.8, 1.2)))
        y0, x0 = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        alpha = np.zeros((height, width))
        alpha[y0:y0 + h, x0:x0 + w] = _opacity(scans[scan], h, w)
        mask = alpha >= MASK_OPACITY
        if not mask.any() or any((m & ~mask).sum() < MIN_VISIBLE * full
                                 for _, m, full in instances):
            continue
        colour = _contrasting_colour(rng, image[y0:y0 + h, x0:x0 + w])
        image = image * (1.0 - alpha[..., None]) + colour * alpha[..., None]
        instances = [(label, m & ~mask, full) for label, m, full in instances]
        instances.append((int(labels[scan]), mask, int(mask.sum())))
    pixels = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return pixels, [(label, mask) for label, mask, _ in instances]


def _annotation(ann_id, image_id, label, mask):
    ys, xs = np.nonzero(mask)
    x0, y0 = int(xs.min()), int(ys.min())
    return {"id": ann_id, "image_id": image_id, "category_id": label + 1, "iscrowd": 0,
            "bbox": [x0, y0, int(xs.max()) + 1 - x0, int(ys.max()) + 1 - y0],
            "area": int(mask.sum()), "segmentation": mask_to_rle(mask)}


def generate(folder, *, splits=None, seed=SEED):
    """Writes the dataset into `folder` (see the module docstring).

    Args:
        folder: an existing, empty folder.
        splits: ``{split: (first scan, end scan, canvases)}``; None: `SPLITS`.
        seed: the generator's seed; split ``i`` draws from ``default_rng([seed, i])``.
    """
    from PIL import Image

    scans, labels = _scans()
    os.makedirs(os.path.join(folder, "annotations"), exist_ok=True)
    for index, (split, (first, end, count)) in enumerate((splits or SPLITS).items()):
        rng = np.random.default_rng([seed, index])
        os.makedirs(os.path.join(folder, split), exist_ok=True)
        images, annotations = [], []
        for image_id in range(1, count + 1):
            pixels, instances = render_canvas(rng, scans, labels, (first, end))
            name = f"{image_id:06d}.png"
            Image.fromarray(pixels).save(os.path.join(folder, split, name))
            images.append({"id": image_id, "file_name": name, "height": pixels.shape[0],
                           "width": pixels.shape[1]})
            for label, mask in instances:
                annotations.append(_annotation(len(annotations) + 1, image_id, label, mask))
        document = {"info": {"description": "scikit-learn digits pasted on canvases "
                                            "(keras_zoo.train.datasets.digits_instances)",
                             "version": VERSION, "seed": seed},
                    "licenses": [], "images": images, "annotations": annotations,
                    "categories": list(CATEGORIES)}
        with open(os.path.join(folder, "annotations", f"instances_{split}.json"), "w",
                  encoding="utf-8") as f:
            json.dump(document, f)
