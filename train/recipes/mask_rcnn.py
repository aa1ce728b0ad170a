"""He et al. 2017 (arXiv:1703.06870): Mask R-CNN R-50-FPN / R-101-FPN on COCO-format data.

Commands:

    keras-zoo train mask-rcnn --data-dir /data/coco        # annotations/instances_train2017.json,
                                                            # train2017/, val2017/ (COCO 2017)
    keras-zoo train mask-rcnn --train-annotations train.json --train-images imgs/ \\
        --val-annotations val.json --val-images imgs/       # any COCO-format export
    keras-zoo train mask-rcnn --init torchvision maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth ...
    keras-zoo train mask-rcnn --init mask_rcnn_resnet50_fpn_v2_coco ...  # a preset directory
    keras-zoo train mask-rcnn-r101 --data-dir /data/coco
    keras-zoo evaluate RUN_DIR [--split val|test]           # COCOeval bbox + segm tables
    keras-zoo predict RUN_DIR photo.jpg --out pictures/

Expected (the papers, on 8 GPUs; not reproduced here: no GPU, no COCO download): COCO
minival mask AP 33.6 (R-50-FPN) and 35.4 (R-101-FPN), Table 2a; detectron2's 1x
R-50-FPN: box AP 38.6, mask AP 35.2; torchvision's COCO weights: box 37.9 / mask 34.6.
Those start from ImageNet weights; without ``--init`` the backbone starts from random
weights, and a 1x schedule from scratch falls far short of them (He et al. 2018,
"Rethinking ImageNet Pre-training", needs ~6x).

Recipe (detectron2's 1x schedule): 16 images per batch, SGD momentum 0.9, coupled L2
weight decay 1e-4 on the kernels, lr 0.02 scaled linearly with the batch (0.0025 at
batch 2), linear warm-up from 0.001x over the first 1000 of 90k iterations, lr /10 at
60k and 80k. The same shape over ``--epochs`` (warm-up, decays at 1/90, 2/3 and 8/9 of
the run). An "epoch" is one pass over the training images (90k iterations at batch 16
are ~12 passes of COCO train2017: 12 epochs of ~7.5k iterations). Shorter side 800,
longer <= 1333, horizontal flips, masks cropped to their boxes at 112x112, images
without objects left out. From scratch (no ``--init``) every stage trains with batch
statistics (``--sync-bn`` to share them across replicas), as from-scratch detectors must;
``--init torchvision PATH`` loads torchvision's ``maskrcnn_resnet50_fpn`` (frozen BN, stem
and conv2 frozen: its ``trainable_backbone_layers=3``) or ``maskrcnn_resnet50_fpn_v2`` (BN
trained in stages 3-5, as torchvision fine-tunes it), ``--init PRESET`` a Mask R-CNN preset
(``keras-zoo convert``), each with new class layers for the dataset's categories. COCO AP
(bbox, segm) on val after the first epoch, every
``eval_every`` epochs and the last, into the logs, log.csv and TensorBoard; pictures of
val predictions in ``predictions/``; COCOeval of the test split (val when there is no
test split) at the end, with its results JSON in ``evaluation/<split>/``.
"""

import math
import os

from keras_zoo import models
from keras_zoo.train import registry
from keras_zoo.train.atomic_files import atomic_path, write_json_atomic
from keras_zoo.train.callbacks import EvaluateCoco
from keras_zoo.train.datasets import (
    COCO_NAMES,
    CocoCategories,
    CocoDataset,
    Inputs,
    coco_pipeline,
    digits_instances,
)
from keras_zoo.train.datasets.coco_examples import CocoExamples
from keras_zoo.train.evaluation import CocoEvaluation, coco_report, coco_results
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.predictions import write_predictions
from keras_zoo.train.schedules import StepSchedule

from . import common
from .recipe import Recipe

REFERENCE_BATCH_SIZE = 16  # the learning rate is given for 16 images per batch (detectron2)
PICTURE_SCORE = 0.5  # detections drawn in the pictures score at least this


class MaskRCNNRecipe(Recipe):
    """Mask R-CNN with FPN on a COCO-format dataset (see the module docstring)."""

    name = "mask_rcnn"
    defaults = {
        "dataset": "coco",
        "data_files": None,  # {split: [annotations JSON, image folder]} (--train-annotations ...)
        "init": None,  # ["torchvision" | "preset", path]: start from those weights (--init)
        "batch_size": 16,  # detectron2 1x: 2 images x 8 GPUs
        "epochs": None,
        "steps": 90000,  # detectron2 1x
        "steps_per_epoch": None,  # None: one pass over the training images
        "learning_rate": 0.02,  # at REFERENCE_BATCH_SIZE images per batch, scaled linearly
        "momentum": 0.9,
        "weight_decay": 1e-4,
        "warmup": 1000 / 90000,  # fraction of the run: 1000 of 90k iterations
        "warmup_factor": 0.001,  # detectron2: the warm-up starts at 0.001 x lr
        "decay_at": [60000 / 90000, 80000 / 90000],  # lr / 10 at 60k and 80k of 90k
        "min_size": 800,  # Sec. 3.1: shorter side 800
        "max_size": 1333,
        "mask_size": 112,  # box-cropped ground-truth masks (TF Model Garden's size)
        "flip": True,
        "skip_empty": True,  # train on images with objects only (torchvision, detectron2)
        "use_roi_align": True,  # False: RoIPool (Table 2c)
        "freeze_at": 0,  # from scratch every stage trains
        "validation_loss": True,  # the val split's loss terms each epoch (val_loss)
        "eval_every": 1,  # COCO AP on val every N epochs (and after the first and the last)
        "eval_images": None,  # evaluate on the first N images of a split (None: all)
        "eval_batch_size": 2,
        "pictures": 8,  # val images drawn at the end of training
    }
    tiny = {"epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "min_size": 320,
            "max_size": 512, "eval_images": 4, "pictures": 2}
    export_after_training = False  # the detector's SavedModel export is `keras-zoo export`'s
    user_data_dataset = "coco"  # --data-dir or annotation files: COCO-format data

    def model_config(self, model_name, *, tiny):
        """The backbone's ResNet (``"resnet50"``, ``"resnet101"``) of the registry's row
        (ResNet-50 for a model without one)."""
        entry = registry.MODELS.get(model_name)
        backbone = entry.kwargs.get("backbone", "resnet50_fpn") if entry else "resnet50_fpn"
        return {"backbone": models.mask_rcnn.BACKBONES[backbone]}

    def load_data(self, config):
        """A `CocoDataset`: ``--data-dir`` (COCO 2017 layout), explicit files, or the shipped
        digits-instances; the categories a run recorded (`config_from_data`) when given."""
        files = {split: tuple(pair) for split, pair in (config["data_files"] or {}).items()}
        stored = config.get("categories")
        options = {"categories": stored and CocoCategories.from_json(stored), "log": print,
                   "name": config["dataset"]}
        if config["dataset"] not in COCO_NAMES:
            raise ValueError(f"Expected --dataset among {COCO_NAMES} for {config['model']}. "
                             f"Received: dataset={config['dataset']!r}")
        if config["validation_split"]:
            raise ValueError("Expected no --validation-split for COCO-format data: its val "
                             f"split validates. Received: {config['validation_split']!r}")
        if config["dataset"] == "digits-instances":
            if config["data_dir"] or files:
                raise ValueError("Expected no --data-dir or annotation files with "
                                 "--dataset digits-instances (the shipped dataset); leave out "
                                 "--dataset to train on yours. Received: "
                                 f"data_dir={config['data_dir']!r}, files for {sorted(files)}")
            return CocoDataset.from_folder(digits_instances.digits_instances_dir(), **options)
        if config["data_dir"]:
            return CocoDataset.from_folder(config["data_dir"], files=files, **options)
        if "train" not in files and stored is None:
            raise ValueError("Expected COCO-format data: --data-dir DIR (the COCO 2017 layout) "
                             "or --train-annotations JSON --train-images DIR (and --val-...). "
                             "Received: neither (mask-rcnn-tiny trains on a shipped dataset)")
        return CocoDataset(files, **options)

    def config_from_data(self, data):
        """The category map (dataset id, name, classifier index), stored in config.json."""
        return {"categories": data.categories.to_json()}

    def steps_per_epoch(self, config, images):
        """Updates per epoch: ``steps_per_epoch``, else one pass over the `images` (with
        ``steps``: passes of equal length adding up to at least ``steps``)."""
        if config["steps_per_epoch"]:
            return int(config["steps_per_epoch"])
        per_pass = max(1, images // config["batch_size"])
        if config["epochs"] is not None:
            return per_pass
        passes = max(1, round(config["steps"] / per_pass))
        return math.ceil(config["steps"] / passes)

    def _pipeline_options(self, config):
        return {"min_size": config["min_size"], "max_size": config["max_size"],
                "mask_size": config["mask_size"], "seed": config["seed"],
                "skip_empty": config["skip_empty"]}

    def make_datasets(self, data, config):
        """Streaming batches of the train split (repeated) and of the val split (loss); for
        multi-worker training, the train split's global batches (`CocoExamples`)."""
        train = data.split("train", training=True)
        options = self._pipeline_options(config)
        validation = None
        if config["validation_loss"] and data.has("val"):
            validation = coco_pipeline.training_pipeline(
                data.split("val"), batch_size=config["batch_size"], training=False,
                max_images=config["eval_images"], **options)
        return Inputs(
            train=coco_pipeline.training_pipeline(train, batch_size=config["batch_size"],
                                                  training=True, flip=config["flip"],
                                                  **options),
            validation=validation,
            steps_per_epoch=self.steps_per_epoch(
                config, len(train.training_images(config["skip_empty"]))),
            examples=CocoExamples(train, batch_size=config["batch_size"], flip=config["flip"],
                                  **options))

    def build_model(self, builder, data, config):
        """`MaskRCNN` for the dataset's categories, from scratch or from torchvision; RoI
        poolers from ``use_roi_align`` (torchvision's weights: its ``aligned=False``)."""
        shared = {"min_size": config["min_size"], "max_size": config["max_size"],
                  "seed": config["seed"]}
        if config["init"] is not None:
            kind, path = config["init"]
            if kind not in ("torchvision", "preset") or config["backbone"] != "resnet50":
                raise ValueError("Expected --init torchvision PATH (torchvision's "
                                 "maskrcnn_resnet50_fpn or _v2) or --init PRESET (a Mask R-CNN "
                                 f"preset) for mask-rcnn. Received: --init {kind} for "
                                 f"{config['model']}")
            poolers = {} if config["use_roi_align"] else models.mask_rcnn.roi_poolers(
                aligned=False, use_roi_align=False)
            if kind == "preset":
                model = models.MaskRCNN.from_preset(path, **shared)
                return (model.replace(**poolers) if poolers else model).with_classes(
                    data.categories.num_classes)
            model = models.mask_rcnn.from_torchvision(
                path, num_classes=data.categories.num_classes, **poolers, **shared)
            if not isinstance(model, models.MaskRCNN):
                raise ValueError(f"Expected --init torchvision a Mask R-CNN checkpoint "
                                 f"(maskrcnn_resnet50_fpn or _v2). Received: {path} holds a "
                                 f"{type(model).__name__}'s weights")
            return model
        backbone = models.mask_rcnn.FPNBackbone.from_variant(
            config["backbone"], norm_layer=config["norm_layer"], freeze_at=config["freeze_at"],
            name="backbone")
        return builder(num_classes=data.categories.num_classes, backbone=backbone,
                       **models.mask_rcnn.roi_poolers(use_roi_align=config["use_roi_align"]),
                       **shared)

    def compile_model(self, model, config, *, steps_per_epoch, jit_compile="auto"):
        """L2SGD on detectron2's warm-up multi-step schedule (see the module docstring)."""
        epochs = config["epochs"] or common.epochs_for(config["steps"], steps_per_epoch)
        total = epochs * steps_per_epoch
        rate = config["learning_rate"] * config["batch_size"] / REFERENCE_BATCH_SIZE
        boundaries = sorted({max(1, round(f * total)) for f in config["decay_at"]})
        schedule = StepSchedule(boundaries, [rate * 0.1**i for i in range(len(boundaries) + 1)],
                                round(config["warmup"] * total), rate * config["warmup_factor"],
                                warmup="linear")
        model.compile(optimizer=L2SGD(schedule, momentum=config["momentum"],
                                      l2=config["weight_decay"]),
                      jit_compile=False if jit_compile == "auto" else jit_compile)
        return model

    def callbacks(self, config, *, has_validation, data=None):
        """COCO AP on the val split (`EvaluateCoco`)."""
        if data is None or not data.has("val") or not config["eval_every"]:
            return []
        return [EvaluateCoco(data.split("val"), data.categories, every=config["eval_every"],
                             batch_size=config["eval_batch_size"],
                             max_images=config["eval_images"])]

    def write_artifacts(self, model, data, config, out):
        """Pictures of the first ``pictures`` val images' detections in ``predictions/``."""
        if not config["pictures"] or not data.has("val"):
            return []
        images = data.split("val").images[:config["pictures"]]
        return write_predictions(model, [image.path for image in images], data.categories,
                                 os.path.join(out, "predictions"),
                                 score_threshold=PICTURE_SCORE, overwrite=True, prefix="val_")

    def evaluated_split(self, data, split=None):
        """`split`, or by default the test split when the dataset has one, else val."""
        if split is None:
            return "test" if data.has("test") else "val"
        data.split(split)  # a clear error for a split the dataset lacks
        return split

    def evaluate(self, model, data, config, *, split=None, out=None):
        """COCOeval (bbox, segm) on `split`; with `out`, writes ``evaluation/<split>/``:
        ``results.json`` (COCO results: the dataset's ids, RLE masks), ``metrics.json`` and
        ``coco_eval.txt`` (the tables)."""
        name = self.evaluated_split(data, split)
        coco = data.split(name)
        results, ids = coco_results.predict_results(
            coco_results.predictor(model), coco.images[:config["eval_images"]], data.categories,
            batch_size=config["eval_batch_size"], what=name)
        metrics = CocoEvaluation.run(coco.ground_truth, results, image_ids=ids).metrics
        if out is not None:
            folder = os.path.join(out, "evaluation", name)
            os.makedirs(folder, exist_ok=True)
            write_json_atomic(results, os.path.join(folder, "results.json"))
            write_json_atomic(metrics, os.path.join(folder, "metrics.json"))
            with atomic_path(os.path.join(folder, "coco_eval.txt")) as tmp:
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write("\n".join(self.report(metrics, name)) + "\n")
        return metrics

    def report(self, metrics, split):
        """The two COCOeval tables, headed ``COCO <split>: bbox`` / ``segm``."""
        return coco_report(metrics, f"COCO {split}").splitlines()

    def calibration_images(self, data):
        """The first 32 training images (uint8, each at its own size)."""
        images = data.split("train", training=True).images[:32]
        return [coco_pipeline.read_image(image.path) for image in images]
