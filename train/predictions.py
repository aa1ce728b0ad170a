"""A detector's predictions on image files, for people: one picture per image (boxes,
class names, scores, translucent masks; `drawing.draw_detections`) and a JSON of the
detections (``keras-zoo predict``, and the pictures at the end of a Mask R-CNN run)."""

import json
import os

from keras_zoo.train.atomic_files import atomic_path
from keras_zoo.train.datasets import coco_pipeline
from keras_zoo.train.datasets.coco import image_size
from keras_zoo.train.directory_lock import lock_directory
from keras_zoo.train.drawing import draw_detections
from keras_zoo.train.evaluation import coco_results

JSON_NAME = "detections.json"


def _picture_names(paths, prefix):
    """``<prefix><stem>.png`` per image; a stem met again gets ``-2``, ``-3``, ..."""
    names, seen = [], {}
    for path in paths:
        stem = f"{prefix}{os.path.splitext(os.path.basename(path))[0]}"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(f"{stem}.png" if seen[stem] == 1 else f"{stem}-{seen[stem]}.png")
    return names


def output_paths(paths, out, *, overwrite=False, prefix=""):
    """The files `write_predictions` writes for the image files `paths`: a picture
    ``out/<prefix><stem>.png`` per image, then ``out/detections.json``. Checks the images
    and the outputs first (``keras-zoo predict`` does so before loading a model).

    Locks `out` (`directory_lock`) once the images are checked.

    Raises:
        FileNotFoundError: an image does not exist.
        ValueError: an image is not readable, an output exists without `overwrite`, or
            another process holds `out`.
    """
    paths = [os.fspath(p) for p in paths]
    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Expected an image file. Received: {path!r} does not exist")
        if image_size(path) is None:
            raise ValueError(f"Expected an image file Pillow can read. Received: {path!r}")
    lock_directory(out, what="--out")
    targets = [os.path.join(out, name) for name in _picture_names(paths, prefix)]
    targets.append(os.path.join(out, JSON_NAME))
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not overwrite:
        raise ValueError(f"Expected --out without earlier predictions (or --overwrite). "
                         f"Received: {existing[0]!r} exists")
    return targets


def write_predictions(model, paths, categories, out, *, score_threshold=0.5, batch_size=1,
                      overwrite=False, prefix=""):
    """Runs `model` on image files and writes what it finds into `out`.

    Writes ``out/<prefix><stem>.png`` per image and ``out/detections.json``: a list of
    ``{"file", "height", "width", "detections": [{"category_id", "category", "score",
    "bbox": [x, y, w, h], "segmentation": RLE}, ...]}`` in the images' pixels, with the
    dataset's category ids and names. Files are written atomically.

    Args:
        model: a `MaskRCNN`.
        paths: image files (any format Pillow reads).
        categories: the `CocoCategories` of the model's classes.
        out: the output folder (created).
        score_threshold: detections scoring less are neither drawn nor listed.
        batch_size: images per prediction batch.
        overwrite: replace existing pictures / JSON instead of refusing.
        prefix: of the picture names.

    Returns:
        The paths written (pictures, then the JSON).

    Locks `out` (`directory_lock`) once the images are checked.

    Raises:
        FileNotFoundError: an image does not exist.
        ValueError: an image is not readable, an output exists without `overwrite`, or
            another process holds `out`.
    """
    paths = [os.fspath(p) for p in paths]
    targets = output_paths(paths, out, overwrite=overwrite, prefix=prefix)
    os.makedirs(out, exist_ok=True)
    listing, written = [], []
    predict = coco_results.predictor(model)
    for x, ids in coco_pipeline.prediction_pipeline(paths, batch_size=batch_size):
        outputs = predict(x)
        for b, index in enumerate(ids.numpy()):
            height, width = (int(v) for v in x["image_sizes"][b])
            found = coco_results.pasted_detections(outputs, b, (height, width),
                                                   score_threshold)
            picture = draw_detections(x["images"][b, :height, :width].numpy(), *found,
                                      categories.names)
            with atomic_path(targets[index]) as tmp:
                picture.save(tmp, format="PNG")
            written.append(targets[index])
            detections = coco_results.to_results(index, found, categories)
            for detection, cls in zip(detections, found[2]):
                del detection["image_id"]
                detection["category"] = categories.name_of(int(cls))
            listing.append({"file": paths[index], "height": height, "width": width,
                            "detections": detections})
    with atomic_path(targets[-1]) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(listing, f, indent=1)
    return [*written, targets[-1]]
