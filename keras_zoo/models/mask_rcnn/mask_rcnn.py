"""`MaskRCNN`: `FasterRCNN` plus the mask branch (pooler, head, predictor) and its loss."""

import keras
import tensorflow as tf

from keras_zoo import ops
from keras_zoo.models.mask_rcnn import losses
from keras_zoo.models.mask_rcnn.detector_inputs import hw, unpack_inputs
from keras_zoo.models.mask_rcnn.faster_rcnn import BACKBONES, FasterRCNN
from keras_zoo.models.mask_rcnn.mask_head import MaskHead
from keras_zoo.models.mask_rcnn.mask_predictor import MaskPredictor
from keras_zoo.models.mask_rcnn.roi_poolers import roi_poolers

LOSS_TERMS = FasterRCNN.LOSS_TERMS + ("mask_loss",)
__all__ = ["BACKBONES", "LOSS_TERMS", "MaskRCNN"]


def _select_class(mask_logits, classes):
    """``[K, m, m, C]`` logits at ``classes [K]`` -> ``[K, m, m]`` float32."""
    per_class = tf.transpose(tf.cast(mask_logits, tf.float32), [0, 3, 1, 2])
    return tf.gather(per_class, tf.cast(classes, tf.int32), batch_dims=1)


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaskRCNN(FasterRCNN):
    """Mask R-CNN with FPN (He et al. 2017; Lin et al. 2017), trained by ``model.fit``:
    `FasterRCNN`'s parts (see there) plus ``mask_roi_pool`` (`layers.MultiLevelRoIAlign`,
    14x14 RoIAlign), ``mask_head`` (`MaskHead`: 4 conv 256) and ``mask_predictor``
    (`MaskPredictor`: 2x upsampling, one 28x28 mask per class), each injected and
    defaulting to the paper's (torchvision's ``maskrcnn_resnet50_fpn``).

    **Inference** adds to `FasterRCNN`'s outputs:

    - ``masks [B, D, 28, 28]`` float32 probabilities of the detected class, over the
      box (``ops.masks.paste_masks`` pastes them; ``paste_masks=True`` adds
      ``pasted_masks [B, D, H, W]`` bool at the input size).

    **Training** (``fit``) needs ``masks`` in ``y`` besides ``boxes`` and ``classes``:

    - ``masks [B, G, M, M]`` (bool/uint8/float, any M, e.g. 112): each instance's binary
      mask **cropped to its box** and resized to M x M. Full-image masks
      ``[B, G, H, W]`` cost ~100 MB per 800x1333 image at G = 100 (uint8); box crops
      at M = 112 cost 1.25 MB, survive resizing and flipping unchanged (only the boxes
      move), and give the 28x28 targets directly (``ops.masks.crop_box_masks``; TF
      Model Garden stores masks this way).
      ``ops.masks.crop_and_resize_masks(masks, boxes, range(G), M, threshold=None)``
      makes them from full masks.

    The fifth loss term, ``mask_loss``, is the mask head's per-pixel sigmoid BCE on
    the ground-truth class of the sampled positive RoIs (Sec. 3), selected by the RoI
    sampler's ``positive`` mask.

    Args:
        num_classes: classifier outputs, background 0 included; None: the predictors'
            (91, COCO's ids, when the default predictors are built).
        backbone: as `FasterRCNN`'s.
        mask_roi_pool, mask_head, mask_predictor: the mask parts (or their configs);
            None builds the paper's.
        paste_masks: also return ``pasted_masks`` at the input size.
        **kwargs: `FasterRCNN`'s other parts and settings, `keras.Model` arguments.

    Example:

    >>> model = MaskRCNN(3, FPNBackbone.from_variant("resnet18", channels=16),
    ...                  min_size=64, max_size=64)
    >>> out = model.predict(np.zeros((1, 48, 64, 3), "uint8"), verbose=0)
    >>> out["boxes"].shape, out["masks"].shape
    ((1, 100, 4), (1, 100, 28, 28))
    """

    PARTS = FasterRCNN.PARTS + ("mask_roi_pool", "mask_head", "mask_predictor")
    PREDICTORS = ("box_predictor", "mask_predictor")
    POOLERS = ("box_roi_pool", "mask_roi_pool")
    LOSS_TERMS = LOSS_TERMS
    TARGETS = ("boxes", "classes", "masks")
    SETTINGS = FasterRCNN.SETTINGS + ("paste_masks",)
    SIGNATURES = {"serving_default": {"paste_masks": False},
                  "pasted_masks": {"paste_masks": True}}

    def __init__(self, num_classes=None, backbone="resnet50_fpn", *, mask_roi_pool=None,
                 mask_head=None, mask_predictor=None, paste_masks=False, **kwargs):
        super().__init__(num_classes, backbone, mask_roi_pool=mask_roi_pool,
                         mask_head=mask_head, mask_predictor=mask_predictor, **kwargs)
        self.paste_masks = bool(paste_masks)

    def _extra_defaults(self):
        # Mask R-CNN Fig. 4 right: 14x14 RoIAlign, four 3x3 convs of 256, 28x28 masks.
        return {"mask_roi_pool": lambda: roi_poolers()["mask_roi_pool"],
                "mask_head": lambda: MaskHead(name="mask_head"),
                "mask_predictor": None}

    def _build_class_parts(self):
        super()._build_class_parts()
        if self.mask_predictor is None:
            self.mask_predictor = MaskPredictor(self.num_classes, name="mask_predictor")

    def with_classes(self, num_classes):
        """`FasterRCNN.with_classes`, keeping the mask predictor's trained 2x upsampling
        (it does not depend on the classes)."""
        tuned = super().with_classes(num_classes)
        if tuned is not self:  # the constructor builds every part
            tuned.mask_predictor.upsample.set_weights(self.mask_predictor.upsample.get_weights())
        return tuned

    def _new_predictors(self, num_classes):
        return {**super()._new_predictors(num_classes),
                "mask_predictor": MaskPredictor(
                    num_classes, upsample_filters=self.mask_predictor.upsample_filters,
                    name="mask_predictor")}

    def _build_parts(self, pyramid):
        super()._build_parts(pyramid)
        self._build_roi_branch(pyramid, self.mask_roi_pool, self.mask_head, self.mask_predictor)

    def mask_logits(self, pyramid, rois, image_ids, classes, training=False):
        """The mask branch on flat RoIs: ``rois [K, 4]`` (padded input pixels) of images
        ``image_ids [K]`` -> ``[K, m, m]`` float32 logits of ``classes [K]``."""
        pooled = self.mask_roi_pool([pyramid, rois, image_ids])
        logits = self.mask_predictor(self.mask_head(pooled, training=training))
        return _select_class(logits, classes)

    def _detection_outputs(self, pyramid, boxes, classes, inputs):
        batch, count = tf.shape(boxes)[0], boxes.shape[1]
        logits = self.mask_logits(pyramid, tf.reshape(boxes, [-1, 4]),
                                  tf.repeat(tf.range(batch), count),
                                  tf.reshape(classes, [-1]))
        size = logits.shape[-1]
        return {"masks": tf.reshape(tf.sigmoid(logits), [batch, count, size, size])}

    def _finish_outputs(self, outputs, inputs):
        if self.paste_masks:
            outputs["pasted_masks"] = ops.masks.paste_masks(
                outputs["masks"], outputs["boxes"], hw(unpack_inputs(inputs)[0]))
        return outputs

    def _extra_terms(self, pyramid, rois, gt, batch, training):
        """The mask term of the sampled positives (``rois`` from ``ops.targets.roi_targets``).

        The mask branch runs on the positives only (a dynamic count, as torchvision),
        found by the ``positive`` mask. One zero-weight row (image 0, sample 0) keeps the
        count above 0: TF's Conv2D mishandles empty batches.
        """
        where = tf.concat([tf.cast(tf.where(rois["positive"]), tf.int32),
                           tf.zeros([1, 2], tf.int32)], axis=0)  # [K + 1, 2]
        weights = tf.concat([tf.ones([tf.shape(where)[0] - 1]), [0.0]], axis=0)
        image_ids = where[:, 0]
        mask_rois = tf.gather_nd(rois["rois"], where)
        logits = self.mask_logits(pyramid, mask_rois, image_ids,
                                  tf.gather_nd(rois["classes"], where), training)
        matched = tf.stack([image_ids, tf.gather_nd(rois["matched"], where)], axis=1)
        targets = ops.masks.crop_box_masks(
            tf.gather_nd(gt["masks"], matched), tf.gather_nd(gt["boxes"], matched), mask_rois,
            output_size=logits.shape[-1])
        return {"mask_loss": losses.mask_loss(logits, targets, image_ids, weights, batch)}
