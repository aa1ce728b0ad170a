"""Image-folder pipeline speed: keras_zoo's streaming tf.data pipeline against torchvision's
ImageFolder + DataLoader (2 workers) on the same JPEG files, and whether it keeps ResNet-50
training fed on the same cores.

    python bench/image_folder.py                   # 1024 JPEGs, 5 repeats (~8 min on 2 cores)
    python bench/image_folder.py --images 512 --batches 6 --repeats 3 --skip-model

Data: ``--images`` JPEGs at ImageNet's sizes (shorter side 333 to 500, mostly 500 x 375 or
375 x 500 as ImageNet's are; quality 95 with grain added, ~100 kB each, ImageNet's average
being ~110 kB) in 8 class folders, cut from the two real photographs that ship with
scikit-learn (random crops, scales, mirror images and colour shifts, so no two files are
alike), written to a temporary folder.

Contenders, decoded and augmented uint8 224 x 224 batches of 64, images/s:
  keras_zoo      `image_pipeline.training_pipeline` (tf.data, every core)
  torchvision    `ImageFolder` + `DataLoader(num_workers=2, shuffle=True)` with
                 `PILToTensor` (uint8, no normalisation: the same work), run in a
                 subprocess (torch and TensorFlow are not imported in one process)
for two augmentations: "inception" (random-resized crop + flip: torchvision's
`RandomResizedCrop(224)`, `RandomHorizontalFlip()`) and "scale" (He et al. 2015 Sec. 3.4:
shorter side in [256, 480], random 224 crop, flip; torchvision's `RandomShortestSize`
(v2) + `RandomCrop(224)`; keras_zoo adds the PCA colour noise, torchvision does not).
Contenders alternate within each repeat; the medians are reported, with their ratio
(target >= 1.0x).

Model: ResNet-50 (`models.ResNet50()`, 224 x 224, 1000 classes) training images/s with
`train_on_batch` (SGD, batch 32) on batches in memory, then fed by the pipeline
(`model.fit` on `training_pipeline`, the same batch size), on the same cores. "Fed" is
pipeline images/s >= 2x the model's training images/s; the end-to-end rate shows what the
pipeline's share of the cores costs the model. Every JSON line names the CPU.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from _report import emit  # noqa: E402

BATCH = 64
CROP = 224
SENSOR_NOISE = 6.0  # grain, in grey levels: brings the files near ImageNet's ~110 kB
SIZES = ((375, 500), (500, 375), (333, 500), (500, 333), (400, 500), (500, 400),
         (375, 500), (500, 375), (480, 640), (360, 480))


def write_jpegs(root, count, seed=0):
    """`count` JPEGs at ImageNet's sizes in 8 class folders under `root`; returns `root`."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images  # 2 x 427 x 640 x 3, real photographs
    rng = np.random.default_rng(seed)
    for i in range(count):
        photo = photos[i % 2]
        height, width = SIZES[rng.integers(len(SIZES))]
        scale = rng.uniform(0.55, 1.0)
        h, w = int(427 * scale), int(640 * scale)
        y, x = rng.integers(0, 427 - h + 1), rng.integers(0, 640 - w + 1)
        picture = Image.fromarray(photo[y:y + h, x:x + w]).resize((width, height),
                                                                   Image.BILINEAR)
        pixels = np.asarray(picture, np.float32) * rng.uniform(0.8, 1.2, 3)
        pixels += rng.normal(0, SENSOR_NOISE, pixels.shape)  # photographs are not this smooth
        picture = Image.fromarray(np.clip(np.round(pixels), 0, 255).astype(np.uint8))
        if rng.random() < 0.5:
            picture = picture.transpose(Image.FLIP_LEFT_RIGHT)
        folder = os.path.join(root, f"class_{i % 8}")
        os.makedirs(folder, exist_ok=True)
        picture.save(os.path.join(folder, f"{i:05d}.JPEG"), quality=95)
    return root


def timed_batches(iterator, batches, images_of):
    """Images/s of the next `batches` batches of `iterator`."""
    start = time.perf_counter()
    count = sum(images_of(next(iterator)) for _ in range(batches))
    return count / (time.perf_counter() - start)


def torchvision_rates(root, augmentation, repeats, batches):
    """The torchvision contender (called in its own process): images/s per repeat."""
    import torch
    from torchvision import datasets, transforms
    from torchvision.transforms import v2

    if augmentation == "inception":
        augment = [transforms.RandomResizedCrop(CROP), transforms.RandomHorizontalFlip()]
    else:
        augment = [v2.RandomShortestSize(list(range(256, 481))), v2.RandomCrop(CROP),
                   v2.RandomHorizontalFlip()]
    folder = datasets.ImageFolder(root, transform=transforms.Compose(
        augment + [transforms.PILToTensor()]))
    loader = torch.utils.data.DataLoader(folder, batch_size=BATCH, shuffle=True,
                                         num_workers=2, persistent_workers=True)
    rates = []
    for _ in range(repeats):
        iterator = iter(loader)
        next(iterator)  # the workers' first batch (start-up) is not timed
        rates.append(timed_batches(iterator, batches, lambda batch: len(batch[1])))
    return rates


def torchvision_subprocess(root, augmentation, batches):
    """One repeat of the torchvision contender in a fresh process (no TensorFlow there)."""
    result = subprocess.run(
        [sys.executable, __file__, "--torchvision-only", root, "--augmentation", augmentation,
         "--batches", str(batches)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])["rates"][0]


def keras_zoo_pipeline(root, augmentation, seed=0):
    from keras_zoo.train.datasets import ImageFiles, SkippedImages, image_pipeline

    split = ImageFiles.from_class_folders(root, name="train")
    return image_pipeline.training_pipeline(
        split, batch_size=BATCH, num_classes=8, skipped=SkippedImages(),
        augmentation=augmentation, lighting=0.1 if augmentation == "scale" else 0.0, seed=seed)


def keras_zoo_rate(pipeline, batches):
    """One repeat: a new iterator (nothing decoded ahead while the other contender ran), its
    first batch untimed (as torchvision's), then `batches` batches; the iterator is then
    dropped, which stops its threads."""
    iterator = iter(pipeline)
    next(iterator)
    rate = timed_batches(iterator, batches, lambda batch: int(batch[1].shape[0]))
    del iterator
    return rate


def bench_pipelines(root, repeats, batches):
    """Alternating contenders, per augmentation; returns the keras_zoo medians."""
    medians = {}
    for augmentation in ("inception", "scale"):
        pipeline = keras_zoo_pipeline(root, augmentation)
        keras_zoo_rate(pipeline, 1)  # traces the pipeline's functions
        rates = {"keras_zoo": [], "torchvision": []}
        for repeat in range(repeats):
            rates["keras_zoo"].append(keras_zoo_rate(pipeline, batches))
            time.sleep(0.5)  # let one contender's threads go idle before the next
            rates["torchvision"].append(torchvision_subprocess(root, augmentation, batches))
            for name in rates:
                emit({"bench": "image_folder", "augmentation": augmentation,
                      "contender": name, "repeat": repeat, "batch_size": BATCH,
                      "images_per_s": round(rates[name][-1], 1),
                      "load_average": round(os.getloadavg()[0], 2)})
        ours, theirs = (statistics.median(rates[n]) for n in ("keras_zoo", "torchvision"))
        medians[augmentation] = ours
        emit({"bench": "image_folder_summary", "augmentation": augmentation,
              "keras_zoo_images_per_s": round(ours, 1),
              "torchvision_images_per_s": round(theirs, 1),
              "ratio": round(ours / theirs, 2), "target": ">= 1.0x"})
    return medians


def bench_model(root, pipeline_rate, steps, batch):
    """ResNet-50 training images/s on in-memory batches and fed by the pipeline."""
    import keras
    import tensorflow as tf

    from keras_zoo import models
    from keras_zoo.train.datasets import ImageFiles, SkippedImages, image_pipeline

    model = models.ResNet50()
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = tf.constant(rng.integers(0, 256, (batch, CROP, CROP, 3)), tf.uint8)
    y = tf.constant(rng.integers(0, 1000, (batch,)), tf.int32)
    for _ in range(2):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    in_memory = steps * batch / (time.perf_counter() - start)
    split = ImageFiles.from_class_folders(root, name="train")
    pipeline = image_pipeline.training_pipeline(
        split, batch_size=batch, num_classes=8, skipped=SkippedImages(), lighting=0.1, seed=1)
    model.fit(pipeline, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # traces
    start = time.perf_counter()
    model.fit(pipeline, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    fed = steps * batch / (time.perf_counter() - start)
    emit({"bench": "resnet50_training", "batch_size": batch, "steps": steps,
          "in_memory_images_per_s": round(in_memory, 2),
          "fed_by_pipeline_images_per_s": round(fed, 2),
          "pipeline_images_per_s": round(pipeline_rate, 1),
          "pipeline_over_model": round(pipeline_rate / in_memory, 1), "target": ">= 2x"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batches", type=int, default=12, help="timed batches per repeat")
    parser.add_argument("--model-steps", type=int, default=4)
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--torchvision-only", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--augmentation", default="inception", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torchvision_only:
        print(json.dumps({"rates": torchvision_rates(args.torchvision_only, args.augmentation,
                                                     1, args.batches)}))
        return
    if args.batches + 1 > args.images // BATCH:
        parser.error(f"--batches {args.batches} needs at least {(args.batches + 1) * BATCH} "
                     f"--images (torchvision's loader runs one pass per repeat)")
    with tempfile.TemporaryDirectory() as root:
        write_jpegs(root, args.images)
        sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs]
        emit({"bench": "image_folder_data", "images": len(sizes),
              "mean_kb": round(np.mean(sizes) / 1024, 1)})
        medians = bench_pipelines(root, args.repeats, args.batches)
        if not args.skip_model:
            bench_model(root, medians["scale"], args.model_steps, 32)


if __name__ == "__main__":
    main()
