"""COCO-format input pipeline: checking speed, throughput and memory per batch.

    python bench/coco_pipeline.py [--images 128] [--objects 30] [--batch-size 16]

Writes a COCO-sized dataset to a temporary folder (JPEG images of COCO's sizes,
640x480 and 480x640, each with `--objects` polygon instances, plus a crowd RLE
every 8th image), then prints JSON lines: seconds per image to read and check the
annotation file (`CocoSplit.read`: JSON, every entry, every image header), images/s
of the training pipeline at `mask-rcnn`'s settings (shorter side 800, longer <= 1333,
flips, 112x112 box-cropped masks), the bytes of one batch's tensors, and the growth
of the process's peak resident memory while the pipeline runs (its prefetch buffers
and parallel decoders, above what reading the annotations took).
"""

import argparse
import json
import os
import resource
import tempfile
import time

import numpy as np
from PIL import Image

from keras_zoo.train.datasets import CocoSplit, coco_pipeline
from keras_zoo.train.datasets.coco_masks import mask_to_rle

from _report import emit


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_dataset(root, images, objects, seed=0):
    """COCO-format files in `root`: ``instances.json`` and ``images/*.jpg``."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(root, "images"))
    entries, annotations = [], []
    for image_id in range(1, images + 1):
        height, width = (480, 640) if image_id % 3 else (640, 480)
        pixels = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).resize((width, height)).save(
            os.path.join(root, "images", f"{image_id:012d}.jpg"), quality=90)
        entries.append({"id": image_id, "file_name": f"{image_id:012d}.jpg", "height": height,
                        "width": width})
        for _ in range(objects):
            w, h = rng.uniform(8, width / 3), rng.uniform(8, height / 3)
            x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
            angles = np.sort(rng.uniform(0, 2 * np.pi, 12))
            polygon = np.stack([x + w / 2 * (1 + np.cos(angles)),
                                y + h / 2 * (1 + np.sin(angles))], 1).ravel().tolist()
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": int(rng.integers(1, 81)), "iscrowd": 0,
                                "bbox": [x, y, w, h], "segmentation": [polygon]})
        if image_id % 8 == 0:
            crowd = np.zeros((height, width), np.uint8)
            crowd[: height // 4, : width // 4] = 1
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": 1, "iscrowd": 1, "bbox": [0, 0, width // 4,
                                                                          height // 4],
                                "segmentation": mask_to_rle(crowd)})
    document = {"images": entries, "annotations": annotations,
                "categories": [{"id": i, "name": f"c{i}"} for i in range(1, 81)]}
    path = os.path.join(root, "instances.json")
    with open(path, "w") as f:
        json.dump(document, f)
    return path, os.path.join(root, "images")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--objects", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        annotations, images = write_dataset(root, args.images, args.objects)
        start = time.perf_counter()
        split = CocoSplit.read(annotations, images, name="train")
        emit({"task": "read and check annotations", "images": args.images,
              "objects_per_image": args.objects,
              "ms_per_image": 1000 * (time.perf_counter() - start) / args.images})
        dataset = coco_pipeline.training_pipeline(
            split, batch_size=args.batch_size, training=True, min_size=800, max_size=1333,
            mask_size=112)
        before = _peak_mb()
        iterator = iter(dataset)
        x, y = next(iterator)  # the first batch starts the threads
        batch_bytes = sum(t.numpy().nbytes for t in (*x.values(), *y.values()))
        start = time.perf_counter()
        for _ in range(args.batches):
            x, y = next(iterator)
        seconds = time.perf_counter() - start
        emit({"task": "training pipeline (mask-rcnn settings)", "batch_size": args.batch_size,
              "images_per_s": args.batches * args.batch_size / seconds,
              "batch_shape": list(x["images"].shape), "masks_shape": list(y["masks"].shape),
              "batch_mb": batch_bytes / 2**20, "peak_rss_growth_mb": _peak_mb() - before})
        del iterator, dataset  # its readers stop before the folder goes


if __name__ == "__main__":
    main()
