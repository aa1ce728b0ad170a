"""He et al. 2015 (arXiv:1512.03385), Sec. 3.4: ImageNet ResNets on image folders or TFRecords.

Commands:

    keras-zoo train resnet50 --data-dir /data/imagenet   # train/<class>/*.JPEG, val/<class>/...
    keras-zoo train resnet50 --data-dir /data/imagenet-tf  # train-00000-of-01024, validation-...
    keras-zoo train resnet18 --data-dir my_photos --validation-split 0.1   # a folder per class
    keras-zoo train resnet50 --data-dir /data/imagenet --set schedule=plateau  # the paper's rule
    keras-zoo evaluate runs/resnet50-20261128-101500 --crops 10   # the paper's 10-crop testing

Expected (not reproduced here: 2 CPU cores, no ImageNet): the paper's 10-crop ImageNet val
error, top-1 / top-5 (Table 3): ResNet-34 (B) 24.52 / 7.46, ResNet-50 22.85 / 6.71,
ResNet-101 21.75 / 6.05, ResNet-152 21.43 / 5.71; torchvision's reference recipe (its
weights IMAGENET1K_V1, one center crop, ``--set augmentation=inception lighting=0``):
ResNet-50 76.13% top-1, 92.86% top-5. The streaming pipeline's speed is in
bench/README.md (``bench/image_folder.py``).

Recipe: SGD momentum 0.9, weight decay 1e-4 (coupled L2 on the kernels, `L2SGD`), batch
256, lr 0.1 (Sec. 3.4). The learning-rate rule: ``schedule="step"`` (the default: lr / 10
after epochs 30, 60 and 80 of 90, torchvision's reference, a fixed and repeatable
schedule) or ``schedule="plateau"`` (the paper's: lr / 10 when the validation top-1
accuracy has not improved for ``plateau_patience`` epochs; the paper stops at 60e4
iterations, ~120 epochs: set ``--epochs``). Augmentation (Sec. 3.4): the shorter side
resized to a random S in [256, 480], a random 224 x 224 crop, horizontal flips, AlexNet's
PCA colour noise (``lighting`` 0.1); ``augmentation="inception"`` is torchvision's
random-resized crop. Pixels are normalised inside the model by ImageNet's per-channel mean
and standard deviation (torchvision's; the paper's per-pixel mean of 224-pixel crops
differs from it by little and would tie the model to one input size). Top-1
("accuracy") and top-5 ("top5_accuracy") accuracy in the progress bar, ``log.csv`` and
TensorBoard, for training and validation (one central crop). The test is the test
split, else val (ImageNet's test labels are not public: the paper's table is on val),
with one central crop (``crops=1``: shorter side 256, central 224) or ten (``crops=10``,
``keras-zoo evaluate --crops 10``). ``--init WEIGHTS.h5`` starts from keras.applications'
weights with a new classifier and trains everything with this schedule (``keras-zoo
train`` chooses `resnet_finetune`'s two stages instead when no ``--recipe`` is given).
``--tiny``: 2 updates of 4 images at 32 pixels, a CPU smoke run.
"""

import sys

import keras
import numpy as np

from keras_zoo.checks import one_of
from keras_zoo.train.callbacks import SkippedImagesLog
from keras_zoo.train.datasets import STREAMED_NAMES, Inputs, StreamedImageDataset, image_pipeline
from keras_zoo.train.evaluation import classification_metrics
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.schedules import StepSchedule

from . import common
from .initial_weights import initial_classifier
from .recipe import Recipe

SCHEDULES = ("step", "plateau")


class ResNetImageNet(Recipe):
    """He et al.'s ImageNet recipe on streamed images (see the module docstring)."""

    name = "resnet_imagenet"
    defaults = {
        "dataset": "images",
        "batch_size": 256,  # Sec. 3.4
        "epochs": 90,  # torchvision's reference; the paper: 60e4 iterations (~120 epochs)
        "steps_per_epoch": None,  # None: one pass over the training images
        "learning_rate": 0.1,  # Sec. 3.4
        "momentum": 0.9,  # Sec. 3.4
        "weight_decay": 1e-4,  # Sec. 3.4
        "schedule": "step",  # or "plateau" (Sec. 3.4: "divided by 10 when the error plateaus")
        "decay_epochs": [30, 60, 80],  # torchvision's reference
        "plateau_patience": 5,
        "min_lr": 1e-4,  # the plateau rule divides by 10 at most three times
        "augmentation": "scale",  # Sec. 3.4; "inception": random-resized crop
        "scale_range": [256, 480],  # Sec. 3.4: shorter side sampled in [256, 480]
        "crop_size": 224,  # Sec. 3.4
        "resize_size": 256,  # evaluation: shorter side 256, central 224 crop
        "lighting": 0.1,  # Sec. 3.4 "standard color augmentation [21]" (fb.resnet.torch's std)
        "flip": True,  # Sec. 3.4
        "crops": 1,  # test crops: 1 (the central one) or 10 (Sec. 3.4, 10-crop testing)
        "test_split": 0.1,  # a folder of classes without val/: the share held out to test
        "val_labels": None,  # the label file of a flat val/ folder (None: looked for)
        "label_offset": 1,  # TFRecords: TF's ImageNet tooling labels 1..1000 (0: background)
        "num_classes": None,  # TFRecords without a class-names file: 1000
        "shuffle_buffer": 4096,  # TFRecords: records in the training shuffle buffer
        "normalization": "torch",  # per-channel ImageNet mean / std inside the model
        "init": None,  # ["keras-applications", path]: start from those weights (--init)
    }
    tiny = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 4, "crop_size": 32,
            "resize_size": 36, "scale_range": [36, 64]}

    def load_data(self, config):
        """A `StreamedImageDataset` of ``--data-dir`` (its classes: the run's, if stored)."""
        if config["dataset"] not in STREAMED_NAMES:
            raise ValueError(f"Expected --dataset images for {config['model']} (an image folder "
                             f"or TFRecords at --data-dir; --recipe resnet_cifar trains it on "
                             f"the in-memory datasets). Received: --dataset {config['dataset']}")
        if not config["data_dir"]:
            raise ValueError(f"Expected --data-dir DIR for {config['model']}: a folder with "
                             f"train/ and val/ of class folders (ImageNet's layout), a folder of "
                             f"class folders, or TFRecord shards (train-00000-of-01024, ...). "
                             f"Received: no --data-dir")
        data = StreamedImageDataset.from_folder(
            config["data_dir"], class_names=config.get("class_names"),
            validation_split=config["validation_split"], test_split=config["test_split"],
            seed=config["seed"], val_labels=config["val_labels"],
            label_offset=config["label_offset"], num_classes=config["num_classes"],
            shuffle_buffer=config["shuffle_buffer"], log=print)
        if not (data.has("test") or data.has("val")):
            raise ValueError(f"Expected a split to test on in {data.where}: val/ or test/ "
                             f"folders, validation-* shards, or --set test_split / "
                             f"--validation-split for a folder of classes. Received: none")
        data.crop_sizes = (config["crop_size"], config["resize_size"])  # calibration_images
        return data

    def config_from_data(self, data):
        """The class names (label i is ``class_names[i]``), stored in config.json."""
        return {"class_names": list(data.class_names)}

    def _options(self, data, config):
        return {"num_classes": data.num_classes, "skipped": data.skipped,
                "crop_size": config["crop_size"]}

    def steps_per_epoch(self, config, images):
        """``steps_per_epoch``, else one pass over the `images` training images."""
        if config["steps_per_epoch"]:
            return int(config["steps_per_epoch"])
        if images < config["batch_size"]:
            raise ValueError(f"Expected at least --batch-size {config['batch_size']} training "
                             f"images. Received: {images}")
        return images // config["batch_size"]

    def evaluation_pipeline(self, data, config, split, crops=1):
        """The batches of `split` with `crops` (1 or 10) per image."""
        return image_pipeline.evaluation_pipeline(
            data.split(split), batch_size=config["batch_size"], crops=crops,
            resize_size=config["resize_size"], **self._options(data, config))

    def make_datasets(self, data, config):
        """Streamed, augmented training batches (endless) and val's central crops; for
        multi-worker training, the training files sharded over the workers (`Shards`)."""
        train = data.split("train")
        image_pipeline.check_decodable(train, num_classes=data.num_classes)
        options = {**self._options(data, config), "augmentation": config["augmentation"],
                   "scale_range": config["scale_range"], "lighting": config["lighting"],
                   "flip": config["flip"], "seed": config["seed"]}
        def train_from(batches):
            return image_pipeline.training_pipeline(
                train, batch_size=config["batch_size"], skip=batches * config["batch_size"],
                **options)

        return Inputs(
            train=train_from(0), train_from=train_from,
            validation=self.evaluation_pipeline(data, config, "val") if data.has("val")
            else None,
            steps_per_epoch=self.steps_per_epoch(config, train.num_examples),
            examples=image_pipeline.Shards(train, global_batch_size=config["batch_size"],
                                           **options))

    def build_model(self, builder, data, config):
        """The registry's ResNet for the data's classes and crops, from `config["init"]`'s
        weights (new classifier) or random ones (`initial_classifier`)."""
        return initial_classifier(
            config["model"], builder, num_classes=data.num_classes,
            input_shape=(config["crop_size"], config["crop_size"], 3), init=config["init"],
            norm_layer=config["norm_layer"],
            **({} if config["init"] else {"normalization": config["normalization"]}))

    def learning_rate(self, config, steps_per_epoch):
        """The step schedule (lr / 10 after each of ``decay_epochs``), or the plain rate
        that the plateau rule divides."""
        one_of("schedule", config["schedule"], SCHEDULES)
        if config["schedule"] == "plateau":
            return config["learning_rate"]
        boundaries = [e * steps_per_epoch for e in config["decay_epochs"]]
        return StepSchedule(boundaries, [config["learning_rate"] * 0.1**i
                                         for i in range(len(boundaries) + 1)])

    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        """L2SGD (Sec. 3.4), cross-entropy, top-1 and top-5 accuracy."""
        optimizer = L2SGD(self.learning_rate(config, steps_per_epoch),
                          momentum=config["momentum"], l2=config["weight_decay"])
        # Weighted: an evaluation image the pipeline could not decode has weight 0.
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      weighted_metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(
                          k=5, name="top5_accuracy")], jit_compile=jit_compile)
        return model

    def callbacks(self, config, *, has_validation, data=None):
        """The skipped-images line of each epoch; with "plateau", the paper's rule on the
        validation top-1 accuracy (the training accuracy without a val split)."""
        extra = [] if data is None else [SkippedImagesLog(data.skipped)]
        if config["schedule"] == "plateau":
            extra.append(common.plateau_callback(
                config, "val_accuracy" if has_validation else "accuracy"))
        return extra

    def evaluated_split(self, data, split=None):
        """`split`, by default "test" when the data has it, else "val"."""
        split = split or ("test" if data.has("test") else "val")
        data.split(split)  # a clear error for a split the data lacks
        return split

    def evaluate(self, model, data, config, *, split=None, out=None):
        """Top-1 and top-5 accuracy and the loss on `split` with ``config["crops"]`` crops
        (`classification_metrics`); also the images used, the crops per image and the
        images skipped."""
        split = self.evaluated_split(data, split)
        data.skipped.take()  # count this evaluation's skips only
        metrics = classification_metrics(
            model, self.evaluation_pipeline(data, config, split, crops=config["crops"]))
        counts, examples = data.skipped.take()
        line = data.skipped.summary(counts, examples)
        if line:
            print(f"keras-zoo: {split}: {line}", file=sys.stderr)
        return {**{k: float(v) for k, v in metrics.items() if k != "images"},
                "images": metrics["images"], "crops": config["crops"],
                "skipped_images": sum(counts.values())}

    def report(self, metrics, split):
        """``<split> top-1 accuracy: 0.7613 (error 23.87%)``, top-5 likewise, the loss and
        the images counted, with the crops."""
        lines = [f"{split} {name} accuracy: {metrics[key]:.4f} (error "
                 f"{100 * (1 - metrics[key]):.2f}%)"
                 for name, key in (("top-1", "accuracy"), ("top-5", "top5_accuracy"))]
        crops = "10 crops" if metrics["crops"] == 10 else "the central crop"
        return lines + [f"{split} loss: {metrics['loss']:.4f}",
                        f"{split} images: {metrics['images']}, {crops} of each "
                        f"({metrics['skipped_images']} skipped)"]

    def calibration_images(self, data):
        """The central crops of the first 64 training images (uint8 ``[64, c, c, 3]``, at the
        run's crop size: `load_data` keeps it as ``data.crop_sizes``)."""
        crop_size, resize_size = data.crop_sizes
        batches = image_pipeline.evaluation_pipeline(
            data.split("train"), batch_size=64, num_classes=data.num_classes,
            skipped=data.skipped, crop_size=crop_size, resize_size=resize_size)
        return np.asarray(next(iter(batches))[0])

