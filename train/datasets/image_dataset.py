"""`ImageDataset`: one in-memory image-classification dataset and its split."""

import dataclasses
import functools
import numbers

import numpy as np

AUGMENTATIONS = ("none", "cifar", "shift")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class ImageDataset:
    """Images, integer labels and metadata of a train/(validation)/test split.

    Attributes:
        x_train: uint8 ``[N_train, H, W, C]`` raw pixels (channels last).
        y_train: int32 ``[N_train]`` labels in ``[0, num_classes)``.
        x_val, y_val: the validation part (same layout), or None.
        x_test, y_test: the test part (same layout).
        num_classes: number of classes.
        class_names: tuple of `num_classes` strings.
        name: the dataset's name in `datasets.NAMES`.
        augmentation: the training augmentation that suits the data, for
            `make_pipeline`: ``"cifar"`` (pad, random crop, horizontal flip)
            or ``"shift"`` (pad and random crop only: flips change digits).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple
    name: str
    augmentation: str = "none"

    def __post_init__(self):
        if len(self.class_names) != self.num_classes:
            raise ValueError(
                f"Expected {self.num_classes} class names. Received: "
                f"class_names={self.class_names!r}")
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"Expected augmentation in {AUGMENTATIONS}. "
                             f"Received: augmentation={self.augmentation!r}")
        if (self.x_val is None) != (self.y_val is None):
            raise ValueError("Expected x_val and y_val both set or both None. "
                             f"Received: x_val={_shape(self.x_val)}, y_val={_shape(self.y_val)}")
        for part in ("train", "val", "test"):
            x, y = getattr(self, f"x_{part}"), getattr(self, f"y_{part}")
            if x is None:
                continue
            if x.dtype != np.uint8 or x.ndim != 4 or y.dtype != np.int32 or y.shape != x.shape[:1]:
                raise ValueError(
                    f"Expected x_{part} uint8 [N, H, W, C] and y_{part} int32 [N]. Received: "
                    f"x_{part} {x.dtype} {x.shape}, y_{part} {y.dtype} {y.shape}")

    @property
    def input_shape(self):
        """``(H, W, C)`` of one image."""
        return tuple(self.x_train.shape[1:])

    @functools.cached_property
    def pixel_mean(self):
        """float32 ``[H, W, C]`` mean of the training images, for the per-pixel
        mean subtraction of He et al. 2015, Sec. 4.2 (done by a layer in the model)."""
        return self.x_train.mean(axis=0, dtype=np.float64).astype(np.float32)

    def __repr__(self):
        val = 0 if self.x_val is None else len(self.x_val)
        return (f"ImageDataset(name={self.name!r}, train={len(self.x_train)}, val={val}, "
                f"test={len(self.x_test)}, input_shape={self.input_shape}, "
                f"num_classes={self.num_classes}, augmentation={self.augmentation!r})")


def _shape(array):
    return None if array is None else array.shape


def split_validation(dataset, validation_split, seed=0):
    """Move a random part of `dataset`'s training set to its validation set.

    Args:
        dataset: an `ImageDataset` with no validation part.
        validation_split: number of training images to hold out (5000 gives
            the 45k/5k split of He et al. 2015, Sec. 4.2), or a fraction in
            ``(0, 1)``; 0 returns `dataset` unchanged.
        seed: the split is a function of `seed` (NumPy PCG64 permutation);
            both parts keep their original order.

    Returns:
        An `ImageDataset` with ``x_val``/``y_val`` set.
    """
    if dataset.x_val is not None:
        raise ValueError(f"Expected a dataset without a validation part. Received: {dataset!r}")
    count = len(dataset.x_train)
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise ValueError("Expected validation_split an int count or a float fraction. "
                         f"Received: validation_split={validation_split!r}")
    if isinstance(validation_split, numbers.Integral):
        n_val = int(validation_split)
    elif 0 < validation_split < 1:
        n_val = int(round(validation_split * count))
    else:
        raise ValueError("Expected a float validation_split in (0, 1). "
                         f"Received: validation_split={validation_split!r}")
    if n_val == 0:
        return dataset
    if not 0 < n_val < count:
        raise ValueError(
            f"Expected validation_split between 0 and {count - 1} (the {dataset.name} training "
            f"set has {count} images). Received: validation_split={validation_split!r}")
    order = np.random.default_rng(seed).permutation(count)
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return dataclasses.replace(
        dataset, x_train=dataset.x_train[train], y_train=dataset.y_train[train],
        x_val=dataset.x_train[val], y_val=dataset.y_train[val])
