"""Write tiny datasets in the exact on-disk formats their authors publish.

Used by the dataset tests to read real formats back. The encoders here are
written from the format descriptions (https://www.cs.toronto.edu/~kriz/cifar.html,
http://yann.lecun.com/exdb/mnist/), independently of keras_zoo's decoders.
"""

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np


class Py2Pickler(pickle._Pickler):
    """Protocol 2 as Python 2's cPickle wrote the CIFAR batches: every string
    a BINSTRING (so ``encoding="bytes"`` gives bytes keys) and NumPy's helpers
    under ``numpy.core.multiarray`` (the real files start
    ``\\x80\\x02}q\\x01(U\\x04data...cnumpy.core.multiarray\\n_reconstruct``)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_binstring(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("latin-1")
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_binstring
    dispatch[str] = save_binstring

    def save_global(self, obj, name=None):
        module = obj.__module__.replace("numpy._core", "numpy.core")
        self.write(pickle.GLOBAL + f"{module}\n{name or obj.__qualname__}\n".encode())
        self.memoize(obj)


def dumps(obj, protocol="py2"):
    """Pickle like the CIFAR originals ("py2"), or with a Python 3 protocol number."""
    if protocol != "py2":
        return pickle.dumps(obj, protocol=protocol)
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def cifar_rows(images):
    """uint8 [N, 32, 32, 3] -> [N, 3072]: all red values row by row, then green, then blue."""
    return np.stack([np.concatenate([img[:, :, c].reshape(-1) for c in range(3)])
                     for img in images]).astype(np.uint8)


def random_images(rng, count, shape=(32, 32, 3)):
    return rng.integers(0, 256, (count, *shape), dtype=np.uint8)


CIFAR_LAYOUT = {
    # name: (python folder, train files, test file, meta file, label key, names key)
    "cifar10": ("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "test_batch",
                "batches.meta", b"labels", b"label_names"),
    "cifar100": ("cifar-100-python", ["train"], "test", "meta", b"fine_labels",
                 b"fine_label_names"),
}
BINARY_LAYOUT = {
    # name: (binary folder, train files, test file, label bytes)
    "cifar10": ("cifar-10-batches-bin", [f"data_batch_{i}.bin" for i in range(1, 6)],
                "test_batch.bin", 1),
    "cifar100": ("cifar-100-binary", ["train.bin"], "test.bin", 2),
}

ARCHIVE_NAMES = {  # extracted folder -> the archive it comes in
    "cifar-10-batches-py": "cifar-10-python.tar.gz", "cifar-100-python": "cifar-100-python.tar.gz",
    "cifar-10-batches-bin": "cifar-10-binary.tar.gz", "cifar-100-binary": "cifar-100-binary.tar.gz",
}


def make_cifar(name, per_file=4, num_test=3, seed=0):
    """Random images and labels for each file of `name`: {file: (images, fine, coarse)}."""
    rng = np.random.default_rng(seed)
    classes = 10 if name == "cifar10" else 100
    _, train, test, _, _, _ = CIFAR_LAYOUT[name]
    _, bin_train, bin_test, _ = BINARY_LAYOUT[name]
    parts = {}
    for py_name, bin_name, count in [*[(t, b, per_file) for t, b in zip(train, bin_train)],
                                     (test, bin_test, num_test)]:
        parts[py_name] = (random_images(rng, count), rng.integers(0, classes, count),
                          rng.integers(0, 20, count))
    return parts


def class_names(name):
    return [f"class{i}" for i in range(10 if name == "cifar10" else 100)]


def write_cifar_python(root, name, parts, protocol="py2"):
    """Write the python-version folder of `name` under `root`; returns the folder."""
    folder_name, _, _, meta, label_key, names_key = CIFAR_LAYOUT[name]
    folder = root / folder_name
    folder.mkdir(parents=True)
    for file, (images, fine, coarse) in parts.items():
        batch = {b"batch_label": f"{file} of 1".encode(), b"data": cifar_rows(images),
                 label_key: [int(v) for v in fine],
                 b"filenames": [f"img{i}.png".encode() for i in range(len(images))]}
        if name == "cifar100":
            batch[b"coarse_labels"] = [int(v) for v in coarse]
        (folder / file).write_bytes(dumps(batch, protocol))
    meta_dict = {names_key: [n.encode() for n in class_names(name)]}
    (folder / meta).write_bytes(dumps(meta_dict, protocol))
    return folder


def write_cifar_binary(root, name, parts):
    """Write the binary-version folder of `name` under `root`; returns the folder."""
    folder_name, bin_train, bin_test, label_bytes = BINARY_LAYOUT[name]
    folder = root / folder_name
    folder.mkdir(parents=True)
    for file, (images, fine, coarse) in zip([*bin_train, bin_test], parts.values()):
        records = bytearray()
        for img, f, c in zip(images, fine, coarse):
            labels = bytes([c, f] if label_bytes == 2 else [f])
            records += labels + cifar_rows(img[None])[0].tobytes()
        (folder / file).write_bytes(bytes(records))
    names = "\n".join(class_names(name)) + "\n"
    meta = "batches.meta.txt" if name == "cifar10" else "fine_label_names.txt"
    (folder / meta).write_text(names)
    return folder


def tar_gz(folder, archive):
    """Pack `folder` as the authors do: ``tar czf archive folder``."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def idx_bytes(array):
    """IDX encoding of a uint8 array: magic 0x0000 08 <ndim>, big-endian sizes, values."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(np.uint8).tobytes()


MNIST_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def write_mnist(folder, arrays, gz=False):
    """Write the four IDX files of `arrays` {x_train, y_train, x_test, y_test} into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, file in MNIST_FILES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / (file + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / file).write_bytes(data)
    return folder


def make_mnist(seed=0, num_train=6, num_test=4):
    rng = np.random.default_rng(seed)
    return {"x_train": random_images(rng, num_train, (28, 28)),
            "y_train": rng.integers(0, 10, num_train).astype(np.uint8),
            "x_test": random_images(rng, num_test, (28, 28)),
            "y_test": rng.integers(0, 10, num_test).astype(np.uint8)}
