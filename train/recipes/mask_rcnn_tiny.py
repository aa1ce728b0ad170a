"""The detection quick start: `models.MaskRCNNTiny` on the shipped digits-instances dataset.

Command (no download: scikit-learn's digits pasted on canvases, generated into the
cache on first use; see `keras_zoo.train.datasets.digits_instances`):

    keras-zoo train mask-rcnn-tiny                       # ~7 min on 2 CPU cores
    keras-zoo train mask-rcnn-tiny --set use_roi_align=false     # RoIPool (Table 2c)
    keras-zoo train mask-rcnn-tiny --dataset coco --data-dir DIR  # your COCO-format data

Expected (docs/results.md, "Mask R-CNN: RoIAlign against RoIPool": COCO tables of the
test split, RoIAlign against RoIPool with the same seed and budget): test mask AP 0.421,
AP50 0.722 (RoIPool 0.297, 0.679), in 7 minutes on 2 CPU cores.

Recipe: `MaskRCNNRecipe`'s (warm-up multi-step SGD, coupled L2 1e-4, COCO AP on val
every epoch, pictures, COCOeval of the test split) at the scale of the data: ResNet-18-FPN
with batch normalisation that trains, images resized to a shorter side of 128 (longer
<= 192), 56x56 box-cropped masks, batch 8, lr 0.02 x 8/16, 3 epochs of the 1,500
training canvases with the warm-up over the first 5% of the run; no flips (a mirrored
digit is another symbol). ``--tiny``: 1 epoch of 3 batches of 2, a CPU smoke run.
"""

from .mask_rcnn import MaskRCNNRecipe


class MaskRCNNTinyRecipe(MaskRCNNRecipe):
    """`models.MaskRCNNTiny` on digits-instances (see the module docstring)."""

    name = "mask_rcnn_tiny"
    defaults = {
        **MaskRCNNRecipe.defaults,
        "dataset": "digits-instances",
        "batch_size": 8,
        "epochs": 3,  # 7 minutes on 2 CPU cores (docs/results.md)
        "steps": None,
        "warmup": 0.05,
        "min_size": 128,
        "max_size": 192,
        "mask_size": 56,
        "flip": False,  # a mirrored digit is another symbol
        "eval_batch_size": 8,
    }
    tiny = {"epochs": 1, "steps_per_epoch": 3, "batch_size": 2, "eval_images": 4,
            "pictures": 2}

    def model_config(self, model_name, *, tiny):
        return {}

    def build_model(self, builder, data, config):
        """`models.MaskRCNNTiny` (the registry's builder) for the dataset's categories."""
        if config["init"] is not None:
            raise ValueError("Expected --init only for mask-rcnn (torchvision's weights are "
                             f"a ResNet-50-FPN). Received: --init for {config['model']}")
        return builder(num_classes=data.categories.num_classes, norm_layer=config["norm_layer"],
                       freeze_at=config["freeze_at"], use_roi_align=config["use_roi_align"],
                       min_size=config["min_size"], max_size=config["max_size"],
                       seed=config["seed"])
