"""MNIST (LeCun et al. 1998) from its four IDX files, gzipped or not.

IDX layout (http://yann.lecun.com/exdb/mnist/): a big-endian header
``0x00 0x00 <type> <ndim>`` (type 0x08 = unsigned byte), then `ndim`
big-endian uint32 sizes, then the values in row-major order. Images are
``[N, 28, 28]`` (magic 2051), labels ``[N]`` (magic 2049).
"""

from pathlib import Path

import numpy as np

from .dataset_files import DatasetFiles
from .image_dataset import ImageDataset

URL = ("https://ossci-datasets.s3.amazonaws.com/mnist/ (mirror of "
       "http://yann.lecun.com/exdb/mnist/)")
FILES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}
_NDIM = {"x": 3, "y": 1}


def parse_idx(data, *, ndim, where):
    """Decode one IDX file of unsigned bytes.

    Args:
        data: the file's bytes (decompressed).
        ndim: the expected number of dimensions (3 for images, 1 for labels).
        where: the file's path, for error messages.

    Returns:
        uint8 array of the shape the header gives.

    Raises:
        ValueError: wrong magic number, or a size that disagrees with the header.
    """
    magic = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if magic != 0x0800 + ndim:
        got = "a file shorter than 4 bytes" if magic is None else f"magic number {magic:#010x}"
        raise ValueError(f"Expected {where} to be an IDX file of unsigned bytes with {ndim} "
                         f"dimension(s) (magic number {0x0800 + ndim:#010x}). Received: {got}; "
                         f"download it again from {URL}.")
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f"Expected {where} to hold {header} header bytes + "
                         f"{' x '.join(map(str, shape))} values = {header + int(np.prod(shape))} "
                         f"bytes. Received: {len(data)} bytes; the file is truncated, "
                         f"download it again from {URL}.")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape).copy()


def _expected():
    names = ", ".join(f"{n}[.gz]" for n in FILES.values())
    return f"a folder with the MNIST IDX files {names} (from {URL})"


def load_mnist(data_dir):
    """Load MNIST from the folder `data_dir` holding the four IDX files.

    A file may be gzipped (``train-images-idx3-ubyte.gz``, as downloaded) or
    not; Kaggle's dotted names (``train-images.idx3-ubyte``) are accepted.

    Returns:
        `ImageDataset`: x uint8 ``[N, 28, 28, 1]``, y int32 ``[N]``; 60,000
        train and 10,000 test images for the real files; augmentation
        ``"shift"`` (no flips: a flipped digit is another symbol).

    Raises:
        FileNotFoundError: no such folder, or a file is missing.
        ValueError: a file is truncated, not gzip, has the wrong magic number,
            or images and labels disagree.
    """
    folder = None if data_dir is None else Path(data_dir).expanduser()
    if folder is None or not folder.is_dir():
        received = None if data_dir is None else str(data_dir)
        raise FileNotFoundError(f"Expected data_dir to be {_expected()}. "
                                f"Received: data_dir={received!r}"
                                f"{'' if folder is None else ', which is not a folder'}.")
    files = DatasetFiles.from_folder(folder)
    arrays, missing = {}, []
    for key, base in FILES.items():
        dotted = base[:base.index("-idx")] + "." + base[base.index("idx"):]
        name = files.first_present(base, base + ".gz", dotted, dotted + ".gz")
        if name is None:
            missing.append(base)
            continue
        arrays[key] = parse_idx(files.read(name), ndim=_NDIM[key[0]], where=f"{folder}/{name}")
    if missing:
        raise FileNotFoundError(f"Expected data_dir to be {_expected()}. Received: "
                                f"data_dir={str(folder)!r}, which lacks {', '.join(missing)}.")
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if len(x) != len(y) or (y.size and y.max() > 9):
            raise ValueError(
                f"Expected {FILES[f'y_{part}']} to hold one label in 0..9 per image of "
                f"{FILES[f'x_{part}']}. Received: {len(x)} images and {len(y)} labels up to "
                f"{y.max() if y.size else None} in {folder}; download them again from {URL}.")
    return ImageDataset(
        x_train=arrays["x_train"][..., None], y_train=arrays["y_train"].astype(np.int32),
        x_val=None, y_val=None,
        x_test=arrays["x_test"][..., None], y_test=arrays["y_test"].astype(np.int32),
        num_classes=10, class_names=tuple(str(d) for d in range(10)), name="mnist",
        augmentation="shift")
