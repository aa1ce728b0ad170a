"""`CocoSplit`: one COCO-format annotation file and its images, checked and indexed.

COCO's instance format is what CVAT, Label Studio, the LabelMe converters and
Roboflow export: a JSON file with ``images``, ``annotations`` and
``categories``, polygons or RLE masks (compressed or not), and an image folder.
`CocoSplit.read` checks everything it can before training starts, so that an
epoch never stops on a bad annotation:

Errors (ValueError / FileNotFoundError naming the file, and the image or
annotation id):

- the JSON is unreadable, or lacks ``images``, ``annotations`` or ``categories``;
- an image without ``id``, ``file_name``, ``height`` or ``width`` (positive ints),
  or an image id used twice;
- a category without an int ``id`` or a ``name``, or a category id used twice;
- an annotation without ``id``, ``image_id``, ``category_id`` or ``bbox``, or with
  an ``image_id`` not in ``images`` or a ``category_id`` not among the categories
  (for a validation or test file: the training file's categories);
- a ``bbox`` that is not four finite numbers ``[x, y, width, height]`` with
  ``width, height >= 0``;
- a ``segmentation`` that is neither a polygon list nor an RLE dict, or an RLE
  whose size is not the image's or whose runs do not cover it;
- an image file that does not exist, or whose size differs from its JSON entry
  (its boxes would be wrong).

Skips, counted in the one-line `CocoSplit.summary`:

- crowd objects (``iscrowd`` 1) are left out of the training targets, as in
  torchvision and detectron2; the evaluator counts them as crowd regions;
- boxes are clipped to the image (counted); a box with no area left (outside
  the image, or zero width or height) is left out;
- an object without a segmentation, with an empty one, or whose polygons are all
  degenerate (fewer than three points, zero area) is left out; degenerate
  polygons beside valid ones are dropped;
- an image file that is not a readable image is skipped; so are the images
  without objects, from training only (``skip_empty``).

Objects left out of training are left out of the evaluator's ground truth
too (pycocotools cannot rasterise a degenerate polygon); crowd regions stay.
Missing ``iscrowd`` is read as 0 and a missing ``area`` is computed from the
segmentation (the evaluator's small/medium/large ranges need it). An image
whose data turns out to be cut short after a valid header is found only when
the pipeline decodes it: it is left out of training batches (a blank image
without objects in evaluation batches), with one warning line naming it (see
`coco_pipeline`).
"""

import contextlib
import dataclasses
import io
import math
import os
from typing import NamedTuple

import numpy as np
from pycocotools import mask as mask_utils

from keras_zoo.train.atomic_files import read_json

from . import coco_masks
from .coco_categories import CocoCategories

_IMAGE_KEYS = ("id", "file_name", "height", "width")
_ANNOTATION_KEYS = ("id", "image_id", "category_id", "bbox")
# Summary wording of each counter (one, several), in the order it is printed.
_LEFT_OUT = {"crowd": ("crowd region", "crowd regions"),
             "no_area": ("box without area", "boxes without area"),
             "no_mask": ("object without a usable segmentation",
                         "objects without a usable segmentation")}
_SKIPPED = {"unreadable": ("unreadable image file", "unreadable image files"),
            "empty": ("image without objects", "images without objects")}


class CocoImage(NamedTuple):
    """One image and its training targets (crowd and unusable objects left out).

    Attributes:
        id: the dataset's image id.
        path: the image file.
        height, width: its size (from the JSON, checked against the file).
        boxes: ``[G, 4]`` float32 ``xyxy`` in image pixels, clipped to the image.
        classes: ``[G]`` int32 classifier indices (`CocoCategories.index_of`).
        segmentations: G valid polygon lists or RLE dicts.
    """

    id: int
    path: str
    height: int
    width: int
    boxes: np.ndarray
    classes: np.ndarray
    segmentations: tuple


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def image_size(path):
    """``(height, width)`` from the file's header, or None when it is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return image.height, image.width
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


@dataclasses.dataclass(frozen=True, eq=False)
class CocoSplit:
    """A checked COCO-format split (see the module docstring for the checks).

    Build it with `CocoSplit.read`.

    Attributes:
        name: the split ("train", "val", "test").
        annotations: the JSON file.
        image_dir: the image folder.
        categories: the `CocoCategories` of the classifier.
        images: a `CocoImage` per readable image, in the file's order (with or
            without objects).
        ground_truth: a pycocotools ``COCO`` of the file (less the unusable objects)
            for `COCOeval`.
        counts: the numbers of the summary (``images``, ``objects``, ``clipped`` and
            the keys of the left-out and skipped items).
        unreadable: paths of the skipped unreadable image files.
    """

    name: str
    annotations: str
    image_dir: str
    categories: CocoCategories
    images: tuple
    ground_truth: object
    counts: dict
    unreadable: tuple = ()

    @classmethod
    def read(cls, annotations, image_dir, *, name, categories=None):
        """Reads and checks `annotations` (JSON path) with the images in `image_dir`.

        Args:
            annotations: the COCO-format JSON file.
            image_dir: the folder its ``file_name`` entries are relative to.
            name: the split's name (for messages).
            categories: the classifier's `CocoCategories` (a validation or test
                split takes the training split's); None: the file's own.

        Raises:
            ValueError, FileNotFoundError: see the module docstring.
        """
        annotations, image_dir = os.fspath(annotations), os.fspath(image_dir)
        if not os.path.isdir(image_dir):
            raise FileNotFoundError(f"Expected the image folder of {annotations}. Received: "
                                    f"{image_dir!r} is not a directory")
        document = read_json(annotations, what="COCO-format annotations",
                             fix="export the dataset again in COCO format")
        for key in ("images", "annotations", "categories"):
            if not isinstance(document.get(key), list):
                raise ValueError(f"Expected a COCO-format file with an {key!r} list. "
                                 f"Received: {annotations} without it")
        own = CocoCategories.from_coco(document["categories"], where=annotations)
        categories = categories or own
        counts = dict.fromkeys(("images", "objects", "clipped", *_LEFT_OUT, *_SKIPPED), 0)
        entries = _check_images(document["images"], annotations, image_dir)
        objects, kept = _check_annotations(document["annotations"], entries, categories,
                                           annotations, counts)
        images, unreadable = [], []
        for image_id, entry in entries.items():
            path = os.path.join(image_dir, entry["file_name"])
            size = image_size(path)
            if size is None:
                unreadable.append(path)
                continue
            if size != (entry["height"], entry["width"]):
                raise ValueError(f"Expected image id={image_id} ({path}) of the size in "
                                 f"{annotations}, {entry['height']}x{entry['width']} "
                                 f"(height x width). Received: {size[0]}x{size[1]}")
            found = objects.get(image_id, ())
            images.append(CocoImage(
                image_id, path, entry["height"], entry["width"],
                np.array([box for box, _, _ in found], np.float32).reshape(-1, 4),
                np.array([c for _, c, _ in found], np.int32),
                tuple(segmentation for _, _, segmentation in found)))
        counts["images"], counts["unreadable"] = len(images), len(unreadable)
        counts["objects"] = sum(len(image.boxes) for image in images)
        counts["empty"] = sum(len(image.boxes) == 0 for image in images)
        ground_truth = _ground_truth(document, kept)
        return cls(name, annotations, image_dir, categories, tuple(images), ground_truth,
                   counts, tuple(unreadable))

    def training_images(self, skip_empty=True):
        """The images to train on: those with objects (`skip_empty`), or all."""
        return tuple(image for image in self.images if len(image.boxes) or not skip_empty)

    def summary(self, training=True):
        """One line: the split, its file, images and objects, what was left out or
        skipped, e.g. ``train (instances_train.json): 1500 images, 5903 objects; left out:
        2 crowd regions; 4 boxes clipped to the image; skipped: 1 unreadable image file
        (e.g. a.png)``; with `training`, the images without objects count as skipped."""
        counts = self.counts
        parts = [f"{self.name} ({os.path.basename(self.annotations)}): "
                 f"{_count(counts['images'], ('image', 'images'))}, "
                 f"{_count(counts['objects'], ('object', 'objects'))}"]
        left = [_count(counts[k], words) for k, words in _LEFT_OUT.items() if counts[k]]
        if left:
            parts.append("left out: " + ", ".join(left))
        if counts["clipped"]:
            parts.append(f"{_count(counts['clipped'], ('box', 'boxes'))} clipped to the image")
        skipped = [_count(counts[k], words) for k, words in _SKIPPED.items()
                   if counts[k] and (training or k != "empty")]
        if self.unreadable:
            skipped[0] += f" (e.g. {os.path.basename(self.unreadable[0])})"
        if skipped:
            parts.append("skipped: " + ", ".join(skipped))
        return "; ".join(parts)


def _count(n, words):
    return f"{n} {words[0] if n == 1 else words[1]}"


def _check_images(images, where, image_dir):
    """``{image id: entry}``; FileNotFoundError for the missing files."""
    entries, missing = {}, []
    listed = set(os.listdir(image_dir))
    for i, entry in enumerate(images):
        _check_entry(entry, i, _IMAGE_KEYS, "image", where, entries)
        if not (_positive_int(entry["height"]) and _positive_int(entry["width"])
                and isinstance(entry["id"], int)):
            raise ValueError(f"Expected int image ids and positive int sizes in {where}. "
                             f"Received: image {_name(entry, i)} with height="
                             f"{entry['height']!r}, width={entry['width']!r}")
        name = str(entry["file_name"])
        if name not in listed and not os.path.isfile(os.path.join(image_dir, name)):
            missing.append((entry["id"], name))
        entries[entry["id"]] = entry
    if missing:
        image_id, name = missing[0]
        raise FileNotFoundError(f"Expected the image files of {where} in {image_dir}. "
                                f"Received: {len(missing)} missing, the first image id="
                                f"{image_id} {name!r}")
    return entries


def _check_entry(entry, i, keys, kind, where, seen):
    """ValueError unless `entry` (number `i` of its list) is a dict with `keys` and an id
    not in `seen`."""
    if not isinstance(entry, dict) or any(k not in entry for k in keys):
        absent = [k for k in keys if not isinstance(entry, dict) or k not in entry]
        raise ValueError(f"Expected every {kind} of {where} to have {', '.join(keys)}. "
                         f"Received: {kind} {_name(entry, i)} without {', '.join(absent)}")
    if entry["id"] in seen:
        raise ValueError(f"Expected unique {kind} ids in {where}. Received: id "
                         f"{entry['id']!r} twice")


def _name(entry, i):
    return f"id={entry['id']}" if isinstance(entry, dict) and "id" in entry else f"#{i}"


def _clip(bbox, entry, where, ann_id):
    if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in bbox)) or bbox[2] < 0 or bbox[3] < 0:
        raise ValueError(f"Expected annotation id={ann_id} of {where} to have a bbox [x, y, "
                         f"width, height] of finite numbers, width and height >= 0. Received: "
                         f"bbox={bbox!r:.80}")
    x, y, w, h = (float(v) for v in bbox)
    box = (min(max(x, 0.0), entry["width"]), min(max(y, 0.0), entry["height"]),
           min(max(x + w, 0.0), entry["width"]), min(max(y + h, 0.0), entry["height"]))
    return box, box != (x, y, x + w, y + h)


def _usable_segmentation(segmentation, entry, where, ann_id):
    """Valid polygons or a checked RLE, or None when nothing usable is left."""
    if isinstance(segmentation, dict):
        try:
            coco_masks.check_rle(segmentation, entry["height"], entry["width"])
        except ValueError as error:
            raise ValueError(f"Expected annotation id={ann_id} of {where} to have a valid "
                             f"segmentation: {error}") from None
        return segmentation if sum(coco_masks.rle_counts(segmentation)[1::2]) else None
    if isinstance(segmentation, list):
        return coco_masks.valid_polygons(segmentation) or None
    if segmentation is None:
        return None
    raise ValueError(f"Expected annotation id={ann_id} of {where} to have a segmentation "
                     f"that is a polygon list or an RLE dict. Received: "
                     f"{type(segmentation).__name__}")


def _check_annotations(annotations, entries, categories, where, counts):
    """``({image id: [(box, class, segmentation)]}, kept annotation dicts)``."""
    objects, kept, seen = {}, [], set()
    for i, ann in enumerate(annotations):
        _check_entry(ann, i, _ANNOTATION_KEYS, "annotation", where, seen)
        seen.add(ann["id"])
        entry = entries.get(ann["image_id"])
        if entry is None:
            raise ValueError(f"Expected the image_id of annotation id={ann['id']} of {where} "
                             f"among its images. Received: image_id={ann['image_id']!r}")
        try:
            index = categories.index_of(ann["category_id"])
        except (KeyError, TypeError):
            raise ValueError(f"Expected the category_id of annotation id={ann['id']} of "
                             f"{where} among the categories {list(categories.ids)[:20]}. "
                             f"Received: category_id={ann['category_id']!r}") from None
        box, clipped = _clip(ann["bbox"], entry, where, ann["id"])
        segmentation = _usable_segmentation(ann.get("segmentation"), entry, where, ann["id"])
        if box[2] <= box[0] or box[3] <= box[1]:
            counts["no_area"] += 1
            continue
        if segmentation is None:
            counts["no_mask"] += 1
            continue
        kept.append(ann)
        if ann.get("iscrowd", 0):
            counts["crowd"] += 1
            continue
        counts["clipped"] += clipped
        objects.setdefault(ann["image_id"], []).append((box, index, segmentation))
    return objects, kept


def _area(ann, entry):
    segmentation = ann["segmentation"]
    rle = segmentation if isinstance(segmentation, dict) and not isinstance(
        segmentation["counts"], list) else None
    if rle is None:
        polygons = coco_masks.valid_polygons(segmentation) if isinstance(
            segmentation, list) else segmentation
        rle = mask_utils.frPyObjects(polygons, entry["height"], entry["width"])
        rle = mask_utils.merge(rle) if isinstance(rle, list) else rle
    elif isinstance(rle["counts"], str):
        rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
    return float(mask_utils.area(rle))


def _ground_truth(document, kept):
    """A pycocotools ``COCO`` of `document` with only the `kept` annotations, their
    degenerate polygons dropped, ``iscrowd`` and ``area`` filled in when missing."""
    from pycocotools.coco import COCO

    entries = {entry["id"]: entry for entry in document["images"]}
    annotations = []
    for ann in kept:
        ann = dict(ann, iscrowd=int(bool(ann.get("iscrowd", 0))))
        if isinstance(ann["segmentation"], list):
            ann["segmentation"] = coco_masks.valid_polygons(ann["segmentation"])
        if "area" not in ann:
            ann["area"] = _area(ann, entries[ann["image_id"]])
        annotations.append(ann)
    coco = COCO()
    coco.dataset = {**document, "annotations": annotations}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        coco.createIndex()
    return coco
