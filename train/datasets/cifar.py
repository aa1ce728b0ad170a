"""CIFAR-10 and CIFAR-100 (Krizhevsky 2009) from the files the authors publish.

Both versions at https://www.cs.toronto.edu/~kriz/cifar.html are read, from
the ``.tar.gz`` archive, its extracted folder, or a folder holding either:

- "python version": pickled dicts (``b"data"``: uint8 ``[N, 3072]``, each row
  the 1024 red, then green, then blue values of a 32x32 image in row-major
  order; ``b"labels"`` (CIFAR-10) or ``b"fine_labels"`` (CIFAR-100)). They
  are unpickled with `RestrictedUnpickler`, so a crafted file runs nothing.
- "binary version": fixed-size records, ``<1 label byte><3072 pixel bytes>``
  (CIFAR-10) or ``<coarse byte><fine byte><3072 pixel bytes>`` (CIFAR-100),
  pixels in the same order.
"""

from pathlib import Path

import numpy as np

from .dataset_files import DatasetFiles
from .image_dataset import ImageDataset
from .restricted_unpickler import ForbiddenGlobalError, restricted_loads

URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR100_CLASSES = tuple("""
apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly
camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile
cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp
lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree
orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum
rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider
squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train
trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split())
PIXELS = 32 * 32 * 3

# The published file names of both versions; bin_label_bytes is the record's label prefix.
_SPECS = {
    "cifar10": dict(
        title="CIFAR-10", num_classes=10, class_names=CIFAR10_CLASSES,
        py_folder="cifar-10-batches-py", py_archive="cifar-10-python.tar.gz",
        bin_folder="cifar-10-batches-bin", bin_archive="cifar-10-binary.tar.gz",
        py_train=tuple(f"data_batch_{i}" for i in range(1, 6)), py_test="test_batch",
        py_meta="batches.meta", py_names_key=b"label_names", py_label_key=b"labels",
        bin_train=tuple(f"data_batch_{i}.bin" for i in range(1, 6)), bin_test="test_batch.bin",
        bin_label_bytes=1, bin_names="batches.meta.txt"),
    "cifar100": dict(
        title="CIFAR-100", num_classes=100, class_names=CIFAR100_CLASSES,
        py_folder="cifar-100-python", py_archive="cifar-100-python.tar.gz",
        bin_folder="cifar-100-binary", bin_archive="cifar-100-binary.tar.gz",
        py_train=("train",), py_test="test",
        py_meta="meta", py_names_key=b"fine_label_names", py_label_key=b"fine_labels",
        bin_train=("train.bin",), bin_test="test.bin",
        bin_label_bytes=2, bin_names="fine_label_names.txt"),
}


def _expected(spec):
    py = spec["py_train"] + (spec["py_test"], spec["py_meta"])
    binary = spec["bin_train"] + (spec["bin_test"],)
    return (f"{spec['title']} as the python version ({spec['py_archive']} or its folder "
            f"{spec['py_folder']}/ with {', '.join(py)}) or the binary version "
            f"({spec['bin_archive']} or its folder {spec['bin_folder']}/ with "
            f"{', '.join(binary)}), from {URL}")


def _locate(data_dir, spec):
    """The `DatasetFiles` for `data_dir`: an archive, a dataset folder, or their parent."""
    if data_dir is None:
        raise FileNotFoundError(f"Expected data_dir pointing to {_expected(spec)}. "
                                "Received: data_dir=None")
    path = Path(data_dir).expanduser()
    if path.is_file():
        return DatasetFiles.from_archive(path, what=_expected(spec))
    if path.is_dir():
        markers = {spec["py_train"][0], spec["py_test"], spec["bin_train"][0], spec["bin_test"]}
        if any((path / name).is_file() for name in markers):
            return DatasetFiles.from_folder(path)
        for folder in (spec["py_folder"], spec["bin_folder"]):
            if (path / folder).is_dir():
                return DatasetFiles.from_folder(path / folder)
        for archive in (spec["py_archive"], spec["bin_archive"]):
            if (path / archive).is_file():
                return DatasetFiles.from_archive(path / archive, what=_expected(spec))
    raise FileNotFoundError(f"Expected data_dir pointing to {_expected(spec)}. "
                            f"Received: data_dir={str(data_dir)!r}, which holds none of these.")


def _to_hwc(rows):
    """uint8 [N, 3072] rows (R plane, G plane, B plane) -> uint8 [N, 32, 32, 3]."""
    return np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))


def _checked_labels(labels, spec, where):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= spec["num_classes"]):
        raise ValueError(f"Expected {spec['title']} labels in [0, {spec['num_classes']}) in "
                         f"{where}. Received: labels from {labels.min()} to {labels.max()}; "
                         f"the file is corrupt, download {URL} again.")
    return labels.astype(np.int32)


def _read_python_batch(files, name, spec):
    where = f"{files.where}/{name}"
    try:
        batch = restricted_loads(files.read(name), encoding="bytes")
    except ForbiddenGlobalError as error:
        raise ValueError(f"Expected {where} to be a {spec['title']} python-version batch. "
                         f"Received: a pickle that would run code ({error}); refusing to "
                         "load it, nothing was executed.") from None
    except Exception as error:  # a damaged pickle raises almost anything
        raise ValueError(f"Expected {where} to be a {spec['title']} python-version batch. "
                         f"Received: an unreadable pickle ({type(error).__name__}: {error}); "
                         f"download {URL} again.") from None
    key = spec["py_label_key"]
    data = batch.get(b"data") if isinstance(batch, dict) else None
    labels = batch.get(key) if isinstance(batch, dict) else None
    if (not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2
            or data.shape[1] != PIXELS or labels is None or len(labels) != len(data)):
        raise ValueError(
            f"Expected {where} to hold a dict with b'data' (uint8 [N, {PIXELS}]) and {key!r} "
            f"(N labels). Received: {_describe(batch, data, labels)}; download {URL} again.")
    return _to_hwc(data), _checked_labels(labels, spec, where)


def _describe(batch, data, labels):
    if not isinstance(batch, dict):
        return f"a {type(batch).__name__}"
    shape = getattr(data, "shape", None)
    return (f"keys {sorted(batch)}, data {getattr(data, 'dtype', type(data).__name__)} {shape}, "
            f"{'no' if labels is None else len(labels)} labels")


def _read_binary_batch(files, name, spec):
    where = f"{files.where}/{name}"
    raw = np.frombuffer(files.read(name), np.uint8)
    record = spec["bin_label_bytes"] + PIXELS
    if raw.size == 0 or raw.size % record:
        raise ValueError(
            f"Expected {where} to hold whole {record}-byte records ({spec['bin_label_bytes']} "
            f"label byte(s) + {PIXELS} pixels). Received: {raw.size} bytes; the file is "
            f"truncated or not a {spec['title']} binary batch, download {URL} again.")
    records = raw.reshape(-1, record)
    labels = records[:, spec["bin_label_bytes"] - 1]  # CIFAR-100: the fine label
    return _to_hwc(records[:, spec["bin_label_bytes"]:]), _checked_labels(labels, spec, where)


def _class_names(files, spec, python):
    """Names from the meta file when present, else the published list."""
    name = spec["py_meta"] if python else spec["bin_names"]
    if name not in files.names:
        return spec["class_names"]
    if python:
        try:
            names = restricted_loads(files.read(name), encoding="bytes")[spec["py_names_key"]]
        except Exception:
            names = None
    else:
        names = files.read(name).decode("utf-8", "replace").split()
    if names is None or len(names) != spec["num_classes"]:
        raise ValueError(f"Expected {files.where}/{name} to list {spec['num_classes']} class "
                         f"names. Received: an unreadable or different list; download {URL} again.")
    return tuple(n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names)


def load_cifar(name, data_dir):
    """Load ``"cifar10"`` or ``"cifar100"`` (fine labels) from `data_dir`.

    Returns:
        `ImageDataset`: x uint8 ``[N, 32, 32, 3]``, y int32 ``[N]``;
        50,000 train and 10,000 test images for the real files; augmentation
        ``"cifar"`` (He et al. 2015, Sec. 4.2).

    Raises:
        FileNotFoundError: `data_dir` or a file of the split is missing.
        ValueError: a file is truncated, malformed, or a pickle that would run code.
    """
    spec = _SPECS[name]
    files = _locate(data_dir, spec)
    python = any(n in files.names for n in spec["py_train"] + (spec["py_test"],))
    wanted = (spec["py_train"] + (spec["py_test"],) if python
              else spec["bin_train"] + (spec["bin_test"],))
    missing = [n for n in wanted if n not in files.names]
    if missing:
        raise FileNotFoundError(
            f"Expected {_expected(spec)}. Received: data_dir={files.where!r}, which lacks "
            f"{', '.join(missing)}.")
    read = _read_python_batch if python else _read_binary_batch
    parts = [read(files, n, spec) for n in wanted]
    return ImageDataset(
        x_train=np.concatenate([x for x, _ in parts[:-1]]),
        y_train=np.concatenate([y for _, y in parts[:-1]]),
        x_val=None, y_val=None, x_test=parts[-1][0], y_test=parts[-1][1],
        num_classes=spec["num_classes"], class_names=_class_names(files, spec, python),
        name=name, augmentation="cifar")
