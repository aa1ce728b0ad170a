"""Write small image folders and TFRecord shards in real formats, for the streaming tests.

Images are encoded by Pillow (JPEG, PNG, grey, CMYK, 16-bit, palette, GIF, BMP,
WebP), independently of the TensorFlow decoders keras_zoo reads them with;
TFRecords are ``tf.train.Example``s with the features TF's ImageNet tooling
writes (``image/encoded``, ``image/class/label`` 1-based, ``image/class/synset``,
``image/format``, ``image/filename``, ``image/height``, ``image/width``).
"""

import io
import os

import numpy as np
from PIL import Image

# Each class is a colour: a class is learnable from any crop of its images.
COLOURS = ((220, 40, 40), (40, 200, 60), (50, 70, 230), (230, 210, 40))
KINDS = ("jpeg", "png", "grey_jpeg", "grey_png", "cmyk_jpeg", "png16", "rgba_png",
         "palette_png", "gif", "bmp", "webp")
EXTENSION = {"jpeg": ".JPEG", "grey_jpeg": ".jpg", "cmyk_jpeg": ".jpg", "gif": ".gif",
             "bmp": ".bmp", "webp": ".webp"}


def pixels(rng, label, height=40, width=56):
    """uint8 ``[height, width, 3]``: the class colour with noise and a random darker band."""
    image = np.array(COLOURS[label % len(COLOURS)], np.float64) * rng.uniform(0.7, 1.0)
    image = np.broadcast_to(image, (height, width, 3)) + rng.normal(0, 12, (height, width, 3))
    row = rng.integers(0, height - 4)
    image[row:row + 4] *= 0.5
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def encode(image, kind):
    """The bytes of `image` (uint8 RGB ``[H, W, 3]``) saved as `kind` (see `KINDS`)."""
    picture = Image.fromarray(image)
    buffer = io.BytesIO()
    if kind == "jpeg":
        picture.save(buffer, "JPEG", quality=95)
    elif kind == "grey_jpeg":
        picture.convert("L").save(buffer, "JPEG", quality=95)
    elif kind == "cmyk_jpeg":
        picture.convert("CMYK").save(buffer, "JPEG", quality=95)
    elif kind == "png16":
        grey = image.mean(axis=2) * 257.0  # 16-bit grey: 0..65535
        Image.fromarray(np.round(grey).astype(np.uint16)).save(buffer, "PNG")
    elif kind == "grey_png":
        picture.convert("L").save(buffer, "PNG")
    elif kind == "rgba_png":
        picture.convert("RGBA").save(buffer, "PNG")
    elif kind == "palette_png":
        picture.convert("P").save(buffer, "PNG")
    else:
        picture.save(buffer, {"png": "PNG", "gif": "GIF", "bmp": "BMP", "webp": "WEBP"}[kind])
    return buffer.getvalue()


def write_image(path, image, kind="jpeg"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(encode(image, kind))
    return path


def corrupt(path, how):
    """Damages the image file `path`: "truncated" (its first half), "garbage" (random
    bytes after a JPEG marker), "empty"."""
    with open(path, "rb") as f:
        data = f.read()
    damaged = {"truncated": data[:len(data) // 2], "garbage": b"\xff\xd8" + os.urandom(300),
               "empty": b""}[how]
    with open(path, "wb") as f:
        f.write(damaged)
    return path


def write_class_tree(root, counts, *, kinds=("jpeg",), seed=0, size=(40, 56)):
    """``root/<class>/<class>_<i><ext>`` for ``counts = {class: n}``; the i-th image of a
    class is of kind ``kinds[i % len(kinds)]``, its colour the class's index in sorted
    order. Returns ``{class: [paths]}``."""
    rng = np.random.default_rng(seed)
    written = {}
    for label, name in enumerate(sorted(counts)):
        for i in range(counts[name]):
            kind = kinds[i % len(kinds)]
            path = os.path.join(root, name, f"{name}_{i}{EXTENSION.get(kind, '.png')}")
            written.setdefault(name, []).append(write_image(path, pixels(rng, label, *size), kind))
    return written


def write_tfrecords(folder, prefix, examples, shards, *, total=None):
    """TFRecord shards ``<prefix>-0000i-of-0000n`` of ``examples``, a list of ``(encoded
    JPEG bytes, 1-based label, synset)``, dealt round robin. Returns the paths."""
    import tensorflow as tf

    def feature(value):
        if isinstance(value, int):
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"{prefix}-{i:05d}-of-{shards:05d}") for i in range(shards)]
    writers = [tf.io.TFRecordWriter(p) for p in paths]
    for i, (encoded, label, synset) in enumerate(examples):
        try:
            size = Image.open(io.BytesIO(encoded)).size
        except OSError:  # a damaged image, written as it is
            size = (0, 0)
        features = {"image/encoded": feature(encoded), "image/class/label": feature(label),
                    "image/class/synset": feature(synset.encode()),
                    "image/format": feature(b"JPEG"),
                    "image/filename": feature(f"{synset}_{i}.JPEG".encode()),
                    "image/height": feature(size[1]), "image/width": feature(size[0])}
        example = tf.train.Example(features=tf.train.Features(feature=features))
        writers[i % shards].write(example.SerializeToString())
    for writer in writers:
        writer.close()
    return paths


def snapshot(root):
    """``{relative path: (size, mtime_ns)}`` of every file under `root` (to show that
    nothing was written there)."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            stat = os.stat(os.path.join(folder, name))
            found[os.path.relpath(os.path.join(folder, name), root)] = (stat.st_size,
                                                                        stat.st_mtime_ns)
    return found
