"""Image-classification datasets and their tf.data pipelines.

>>> from keras_zoo.train import datasets
>>> data = datasets.load("digits", validation_split=200)
>>> train = datasets.make_pipeline(data.x_train, data.y_train, batch_size=128,
...                                training=True, augmentation=data.augmentation)

`load` reads the files the datasets' authors publish (nothing is
downloaded) into an `ImageDataset`; `make_pipeline` batches it for
`model.fit`; `Inputs` is what a recipe hands the training loop (train /
validation / test pipelines, and the `Examples` multi-worker training
shards). Images stay raw uint8 ``[N, H, W, C]``: normalisation is a
layer inside the model.

Instance segmentation (Mask R-CNN) reads COCO-format datasets instead
(`COCO_NAMES`): `CocoDataset` (its splits, each a checked `CocoSplit`),
streamed by `coco_pipeline`; ``"digits-instances"`` is the shipped one
(`digits_instances`).

Photographs at ImageNet scale (``"images"``, `STREAMED_NAMES`) are never held in
memory: `StreamedImageDataset` finds an image folder (ImageNet's layout or one
folder per class) or TFRecord shards, each split an `ImageFiles` or
`TFRecordFiles`, streamed by `image_pipeline` (bad images skipped and counted in
`SkippedImages`).
"""

from . import coco_pipeline, digits_instances, image_augment, image_pipeline
from .binarized import BinarizedImages, binarize, load_binarized, make_binarized_pipeline
from .cifar import load_cifar
from .coco import CocoImage, CocoSplit
from .coco_categories import CocoCategories
from .coco_dataset import CocoDataset
from .digits import load_digits
from .examples import Examples, IndexedSource
from .global_batches import GlobalBatches
from .image_dataset import AUGMENTATIONS, ImageDataset, split_validation
from .image_files import ImageFiles
from .inputs import Inputs
from .mnist import load_mnist, parse_idx
from .pipeline import augment, known_size, make_pipeline
from .restricted_unpickler import RestrictedUnpickler
from .skipped_images import SkippedImages
from .streamed_image_dataset import StreamedImageDataset
from .tfrecord_files import TFRecordFiles

IMAGE_NAMES = ("digits", "cifar10", "cifar100", "mnist")  # classification: `load`
COCO_NAMES = ("digits-instances", "coco")  # instance segmentation: `CocoDataset`
STREAMED_NAMES = ("images",)  # image folders and TFRecords: `StreamedImageDataset`
NAMES = IMAGE_NAMES + COCO_NAMES + STREAMED_NAMES

__all__ = ["AUGMENTATIONS", "COCO_NAMES", "IMAGE_NAMES", "NAMES", "STREAMED_NAMES",
           "CocoCategories", "CocoDataset", "CocoImage", "CocoSplit", "Examples", "GlobalBatches",
           "ImageDataset", "ImageFiles", "IndexedSource", "Inputs", "RestrictedUnpickler",
           "SkippedImages", "StreamedImageDataset", "TFRecordFiles", "augment", "coco_pipeline",
           "digits_instances", "image_augment", "image_pipeline", "known_size", "load",
           "make_pipeline", "parse_idx", "split_validation", "BinarizedImages", "binarize",
           "load_binarized", "make_binarized_pipeline"]


def load(name, data_dir=None, *, validation_split=0, seed=0):
    """Load dataset `name` into memory.

    Args:
        name: one of `IMAGE_NAMES`.
            ``"digits"``: scikit-learn's 1,797 8x8 scans resized to 32x32
            (ships with scikit-learn, takes no `data_dir`); a fixed split,
            the first 1,437 scans train and the last 360 test (see
            `digits.load_digits`).
            ``"cifar10"`` / ``"cifar100"``: `data_dir` is the "python
            version" ``.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html,
            its extracted folder (``cifar-10-batches-py``, ``cifar-100-python``),
            the "binary version" archive or folder (``cifar-10-batches-bin``,
            ``cifar-100-binary``), or a folder holding one of these; the
            format is detected. CIFAR-100 gives the 100 fine labels.
            ``"mnist"``: `data_dir` is the folder with the four IDX files
            (``train-images-idx3-ubyte`` ...), gzipped or not.
        data_dir: where the files are (str or path).
        validation_split: training images held out for validation (5000
            gives the 45k/5k split of He et al. 2015, Sec. 4.2), or a fraction
            in (0, 1); 0 leaves ``x_val``/``y_val`` None.
        seed: seed of the validation split (same seed, same split).

    Returns:
        `ImageDataset` (uint8 ``[N, H, W, C]`` images, int32 labels).

    Raises:
        ValueError: unknown `name`; a malformed file (truncated, wrong magic
            number, not an archive, a pickle that would run code); a bad
            `validation_split`.
        FileNotFoundError: `data_dir` or one of the expected files is missing;
            the message names the files and where to download them.
    """
    if name in COCO_NAMES:
        raise ValueError(f"Expected an image-classification dataset, one of {IMAGE_NAMES}. "
                         f"Received: name={name!r}, a COCO-format instance dataset (train "
                         f"mask-rcnn, mask-rcnn-r101 or mask-rcnn-tiny on it)")
    if name in STREAMED_NAMES:
        raise ValueError(f"Expected an in-memory dataset, one of {IMAGE_NAMES}. Received: "
                         f"name={name!r}, streamed from --data-dir (train resnet18 ... resnet152 "
                         f"on it: `StreamedImageDataset`)")
    if name not in NAMES:
        raise ValueError(f"Expected a dataset name in {IMAGE_NAMES}. Received: name={name!r}")
    if name == "digits":
        if data_dir is not None:
            raise ValueError("Expected no data_dir for 'digits' (it ships with scikit-learn). "
                             f"Received: data_dir={str(data_dir)!r}")
        dataset = load_digits()
    elif name == "mnist":
        dataset = load_mnist(data_dir)
    else:
        dataset = load_cifar(name, data_dir)
    return split_validation(dataset, validation_split, seed)
