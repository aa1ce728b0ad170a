"""`MaskRCNN`: the task model composing backbone, RPN, box and mask heads, with its losses."""

import keras
import tensorflow as tf

from keras_zoo import ops
from keras_zoo.layers.image_normalization import ImageNormalization
from keras_zoo.models.mask_rcnn import losses
from keras_zoo.models.mask_rcnn.box_head import BoxHead
from keras_zoo.models.mask_rcnn.fpn_backbone import FPNBackbone
from keras_zoo.models.mask_rcnn.mask_head import MaskHead
from keras_zoo.models.mask_rcnn.rpn_head import RPNHead
from keras_zoo.models.mask_rcnn.serving_variants import serving_variants
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS

# "resnet50_fpn" -> ResNet-50 body + FPN (every ImageNet ResNet of the variants table).
BACKBONES = {f"{name}_fpn": name for name, spec in VARIANTS.items() if spec["family"] == "imagenet"}
LOSS_TERMS = ("rpn_objectness", "rpn_box", "classifier", "box", "mask")
_TORCH = NORMALIZATIONS["torch"]
BOX_MIN_SIZE = 1e-2  # torchvision roi_heads: detections narrower than this are dropped


def _hw(tensor):
    """``(height, width)`` of an NHWC tensor: python ints where static."""
    shape = tf.shape(tensor)
    return tuple(d if d is not None else shape[i + 1] for i, d in enumerate(tensor.shape[1:3]))


def _unpack_inputs(inputs):
    if isinstance(inputs, dict):
        unknown = set(inputs) - {"images", "image_sizes"}
        if "images" not in inputs or unknown:
            raise ValueError("Expected inputs as images [B, H, W, 3] or a dict with keys "
                             f"'images' and 'image_sizes'. Received: keys={sorted(inputs)}")
        return tf.convert_to_tensor(inputs["images"]), inputs.get("image_sizes")
    return tf.convert_to_tensor(inputs), None


def _serialized(value):
    return value if value is None or isinstance(value, str) else (
        keras.saving.serialize_keras_object(value))


def _deserialized(value):
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaskRCNN(keras.Model):
    """Mask R-CNN with FPN (He et al. 2017; Lin et al. 2017), trained by ``model.fit``.

    Parts are injected, each defaulting to the paper's (torchvision's
    ``maskrcnn_resnet50_fpn``): ResNet-50 + FPN backbone with frozen batch
    normalisation and the stem and conv2 frozen (`FPNBackbone`), `RPNHead` with
    one anchor size per level (32..512) x ratios (0.5, 1, 2), `BoxHead` (7x7
    RoIAlign, 2 fc 1024) and `MaskHead` (14x14 RoIAlign, 4 conv, 28x28 masks).

    **Inference** (``call`` / ``predict``; the same graph exports): raw pixels
    ``[B, H, W, 3]`` (uint8 or float in [0, 255]) of any size, or a dict
    ``{"images": [B, H, W, 3], "image_sizes": [B, 2]}`` for a padded batch of mixed
    sizes (image ``b`` in ``[:h_b, :w_b]``). Inside the model: normalisation,
    resize (shorter side ``min_size``, longer <= ``max_size``, Sec. 3.1), padding
    to a multiple of 32, RPN proposals (1000 per image, ``ops.proposals``),
    box head, per-class NMS (``nms_threshold``) of detections scoring above
    ``score_threshold``, the ``detections_per_image`` best, the mask head on
    them; boxes are mapped back to the input image's pixels. Returns a dict:

    - ``boxes [B, D, 4]`` float32 ``xyxy`` in input pixels (D = ``detections_per_image``);
    - ``scores [B, D]`` float32; ``classes [B, D]`` int32 classifier indices (>= 1);
    - ``masks [B, D, 28, 28]`` float32 probabilities of the detected class, over the
      box (``ops.masks.paste_masks`` pastes them; ``paste_masks=True`` adds
      ``pasted_masks [B, D, H, W]`` bool at the input size);
    - ``num_detections [B]`` int32; rows past it are zero (class 0).

    **Training** (``fit``): ``x`` as for inference; ``y`` a dict of padded ground
    truth in input pixels, G instances per image:

    - ``boxes [B, G, 4]`` float32 ``xyxy``; ``classes [B, G]`` int classifier
      indices in ``[1, num_classes)``;
    - ``masks [B, G, M, M]`` (bool/uint8/float, any M, e.g. 112): each instance's
      binary mask **cropped to its box** and resized to M x M. Full-image masks
      ``[B, G, H, W]`` cost ~100 MB per 800x1333 image at G = 100 (uint8); box
      crops at M = 112 cost 1.25 MB, survive resizing and flipping unchanged
      (only the boxes move), and give the 28x28 targets directly
      (``ops.masks.box_mask_targets``; TF Model Garden stores masks this way).
      ``ops.masks.crop_and_resize_masks(masks, boxes, range(G), M, threshold=None)``
      makes them from full masks;
    - ``valid [B, G]`` bool (optional; default ``classes > 0``). Crowd regions are
      left out by the data pipeline.

    The model applies the same resize policy in training (the boxes scale with
    the image; an already resized image is left unchanged). Losses (Sec. 3.1,
    torchvision's rules; ``losses`` module): RPN objectness BCE and smooth-L1
    box over 256 sampled anchors per image (``ops.targets.rpn_targets``), box-head
    cross-entropy and class-specific smooth-L1 over 512 sampled RoIs per image,
    25% positive, ground truth added to the proposals (``ops.targets.roi_targets``),
    and the mask head's per-pixel sigmoid BCE on the ground-truth class of the
    positives (Sec. 3). Each term is a metric (``rpn_objectness_loss``,
    ``rpn_box_loss``, ``classifier_loss``, ``box_loss``, ``mask_loss``). Sampling
    draws from stateless seeds of (``seed``, optimizer step, global image index),
    so one device and a MirroredStrategy split see the same samples.

    Args:
        num_classes: classifier outputs, background 0 included (91 = COCO's ids).
        backbone: a name of ``BACKBONES`` ("resnet50_fpn", "resnet101_fpn", ...), or a
            `keras.Model` mapping normalised images to ``{"P2": ..., "P6": ...}``.
        rpn_head, box_head, mask_head: layers, or None for the paper's.
        min_size, max_size: resize policy (800, 1333).
        pixel_mean, pixel_std: normalisation of RGB pixels in [0, 255] (ImageNet's).
        anchor_sizes: one anchor size per pyramid level (32 .. 512).
        aspect_ratios: anchor height/width ratios (0.5, 1, 2).
        rpn_pre_nms_top_n, rpn_post_nms_top_n: ``(train, test)`` proposal counts
            per level before NMS / per image after ((2000, 1000) both).
        rpn_nms_threshold: proposal NMS IoU (0.7).
        rpn_num_samples, rpn_positive_fraction: anchors per image (256, 0.5).
        roi_num_samples, roi_positive_fraction: RoIs per image (512, 0.25).
        score_threshold, nms_threshold, detections_per_image: inference (0.05, 0.5, 100).
        detection_pre_nms_top_k: candidates (box, class) kept before the final NMS
            (5000; TF Model Garden's bound; torchvision has none).
        use_roi_align: False builds the default heads with RoIPool (Table 2c).
        aligned: RoIAlign convention of the default heads (True: exact alignment).
        paste_masks: also return ``pasted_masks`` at the input size.
        seed: int seed of the anchor and RoI sampling (None: random).
        **kwargs: `keras.Model` arguments.

    Example:

    >>> model = MaskRCNN(num_classes=3, backbone=FPNBackbone("resnet18", channels=16),
    ...                  min_size=64, max_size=64)
    >>> out = model.predict(np.zeros((1, 48, 64, 3), "uint8"), verbose=0)
    >>> out["boxes"].shape, out["masks"].shape
    ((1, 100, 4), (1, 100, 28, 28))
    """

    def __init__(self, num_classes=91, backbone="resnet50_fpn", *, rpn_head=None, box_head=None,
                 mask_head=None, min_size=800, max_size=1333, pixel_mean=_TORCH["mean"],
                 pixel_std=_TORCH["std"], anchor_sizes=ops.anchors.FPN_SIZES,
                 aspect_ratios=ops.anchors.FPN_ASPECT_RATIOS, rpn_pre_nms_top_n=(2000, 1000),
                 rpn_post_nms_top_n=(2000, 1000), rpn_nms_threshold=0.7, rpn_num_samples=256,
                 rpn_positive_fraction=0.5, roi_num_samples=512, roi_positive_fraction=0.25,
                 score_threshold=0.05, nms_threshold=0.5, detections_per_image=100,
                 detection_pre_nms_top_k=5000, use_roi_align=True, aligned=True,
                 paste_masks=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(backbone, str) and backbone not in BACKBONES:
            raise ValueError(f"Expected backbone to be one of {sorted(BACKBONES)} or a "
                             f"keras.Model. Received: backbone={backbone!r}")
        self.num_classes = int(num_classes)
        self._given = {"backbone": backbone, "rpn_head": rpn_head, "box_head": box_head,
                       "mask_head": mask_head}
        self.backbone = (FPNBackbone(BACKBONES[backbone], name="backbone")
                         if isinstance(backbone, str) else _deserialized(backbone))
        pyramid = self.backbone.compute_output_shape((None, None, None, 3))
        self.anchor_sizes = tuple(anchor_sizes)
        self.aspect_ratios = tuple(float(r) for r in aspect_ratios)
        if len(self.anchor_sizes) != len(pyramid):
            raise ValueError("Expected one anchor size per pyramid level "
                             f"{sorted(pyramid)}. Received: anchor_sizes={self.anchor_sizes}")
        self.use_roi_align = bool(use_roi_align)
        self.aligned = bool(aligned)
        heads = {"use_roi_align": self.use_roi_align, "aligned": self.aligned}
        self.rpn_head = _deserialized(rpn_head) or RPNHead(len(self.aspect_ratios),
                                                           name="rpn_head")
        self.box_head = _deserialized(box_head) or BoxHead(num_classes, name="box_head", **heads)
        self.mask_head = _deserialized(mask_head) or MaskHead(num_classes, name="mask_head",
                                                              **heads)
        self.normalization = ImageNormalization(pixel_mean, pixel_std, dtype="float32",
                                                name="normalization")
        self.min_size, self.max_size = int(min_size), int(max_size)
        self.pixel_mean, self.pixel_std = tuple(pixel_mean), tuple(pixel_std)
        self.rpn_pre_nms_top_n = tuple(int(n) for n in rpn_pre_nms_top_n)
        self.rpn_post_nms_top_n = tuple(int(n) for n in rpn_post_nms_top_n)
        self.rpn_nms_threshold = float(rpn_nms_threshold)
        self.rpn_num_samples = int(rpn_num_samples)
        self.rpn_positive_fraction = float(rpn_positive_fraction)
        self.roi_num_samples = int(roi_num_samples)
        self.roi_positive_fraction = float(roi_positive_fraction)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.detections_per_image = int(detections_per_image)
        self.detection_pre_nms_top_k = int(detection_pre_nms_top_k)
        self.paste_masks = bool(paste_masks)
        self.seed = seed
        self._sampling_seed = int(seed) if seed is not None else int(
            keras.random.randint((), 0, 2**31 - 1))
        rois = (None, None, 4)
        for head, shape in ((self.rpn_head, pyramid), (self.box_head, (pyramid, rois)),
                            (self.mask_head, (pyramid, rois))):
            if not head.built:  # a deserialised head comes built
                head.build(shape)
        self._trackers = {name: keras.metrics.Mean(name=f"{name}_loss") for name in LOSS_TERMS}
        self._trackers["loss"] = keras.metrics.Mean(name="loss")
        self.built = True

    # ------------------------------------------------------------------ shared stages
    def _preprocess(self, inputs):
        """Normalise, resize, pad: ``(images [B, H', W', 3] float32, input_sizes [B, 2],
        resized_sizes [B, 2])`` (int32 ``(height, width)``)."""
        images, image_sizes = _unpack_inputs(inputs)
        if images.shape.rank != 4 or images.shape[-1] != 3:
            raise ValueError("Expected images of shape [B, H, W, 3]. "
                             f"Received: images.shape={images.shape}")
        x = self.normalization(images)
        batch = tf.shape(images)[0]
        if image_sizes is not None:
            input_sizes = tf.cast(image_sizes, tf.int32)
            new_sizes = ops.images.resized_sizes(input_sizes, self.min_size, self.max_size)
            return ops.images.resize_each(x, input_sizes, new_sizes), input_sizes, new_sizes
        height, width = _hw(images)
        if isinstance(height, int) and isinstance(width, int):  # static: python ints
            new = ops.images.resized_size(height, width, self.min_size, self.max_size)
        else:
            new = tf.unstack(ops.images.resized_sizes(
                tf.stack([height, width])[None], self.min_size, self.max_size)[0])
        input_sizes = tf.tile(tf.reshape(tf.stack([height, width]), [1, 2]), [batch, 1])
        new_sizes = tf.tile(tf.reshape(tf.stack(new), [1, 2]), [batch, 1])
        return ops.images.resize_batch(x, new), input_sizes, new_sizes

    def _rpn(self, pyramid, padded_hw):
        """Objectness and deltas per level (float32) and the anchors of each level."""
        objectness, deltas = self.rpn_head(pyramid)
        names = sorted(pyramid, key=lambda name: int(name[1:]))
        shapes = [_hw(pyramid[name]) for name in names]
        anchors = ops.anchors.fpn_anchors_per_level(
            padded_hw, sizes=self.anchor_sizes, aspect_ratios=self.aspect_ratios,
            strides=ops.anchors.grid_strides(padded_hw, shapes), level_shapes=shapes)
        return ([tf.cast(o, tf.float32) for o in objectness],
                [tf.cast(d, tf.float32) for d in deltas], anchors)

    def _proposals(self, objectness, deltas, anchors, sizes, training):
        mode = 0 if training else 1
        return ops.proposals.generate_proposals(
            objectness, deltas, anchors, sizes, pre_nms_top_n=self.rpn_pre_nms_top_n[mode],
            post_nms_top_n=self.rpn_post_nms_top_n[mode], nms_threshold=self.rpn_nms_threshold)

    @staticmethod
    def _select_class(mask_logits, classes):
        """``[..., m, m, C]`` logits at ``classes [...]`` -> ``[..., m, m]`` float32."""
        rank = classes.shape.rank
        per_class = tf.transpose(tf.cast(mask_logits, tf.float32),
                                 [*range(rank), rank + 2, rank, rank + 1])
        return tf.gather(per_class, classes, batch_dims=rank)

    # ------------------------------------------------------------------ inference
    def call(self, inputs, training=False):
        images, input_sizes, sizes = self._preprocess(inputs)
        pyramid = self.backbone(tf.cast(images, self.compute_dtype), training=training)
        objectness, deltas, anchors = self._rpn(pyramid, _hw(images))
        proposals, _, valid = self._proposals(objectness, deltas, anchors, sizes, False)
        logits, box_deltas = self.box_head([pyramid, proposals])
        boxes, scores, classes, count = self._detections(logits, box_deltas, proposals, valid,
                                                         sizes)
        masks = tf.sigmoid(self._select_class(self.mask_head([pyramid, boxes]), classes))
        ratio = tf.cast(input_sizes, tf.float32) / tf.cast(sizes, tf.float32)
        boxes = boxes * tf.tile(tf.reverse(ratio, [1]), [1, 2])[:, None, :]
        kept = tf.range(self.detections_per_image)[None, :] < count[:, None]
        boxes = tf.where(kept[..., None], ops.boxes.clip_to_image(boxes, input_sizes), 0.0)
        outputs = {"boxes": boxes, "scores": scores, "classes": classes, "masks": masks,
                   "num_detections": count}
        if self.paste_masks:
            outputs["pasted_masks"] = ops.masks.paste_masks(
                masks, boxes, _hw(_unpack_inputs(inputs)[0]))
        return outputs

    def _detections(self, logits, deltas, proposals, valid, sizes):
        """Per-class decoding, clipping and NMS (torchvision ``postprocess_detections``)."""
        logits, deltas = tf.cast(logits, tf.float32), tf.cast(deltas, tf.float32)
        boxes = ops.boxes.decode(deltas, proposals[:, :, None, :], ops.boxes.HEAD_BOX_WEIGHTS)
        shape = tf.shape(boxes)
        boxes = tf.reshape(ops.boxes.clip_to_image(tf.reshape(boxes, [shape[0], -1, 4]), sizes),
                           shape)
        wide = ((boxes[..., 2] - boxes[..., 0]) >= BOX_MIN_SIZE) & (
            (boxes[..., 3] - boxes[..., 1]) >= BOX_MIN_SIZE)
        scores = tf.where(wide & valid[:, :, None], tf.nn.softmax(logits), 0.0)
        boxes, scores, classes, count = ops.nms.multiclass_nms(
            boxes[:, :, 1:], scores[:, :, 1:], max_detections=self.detections_per_image,
            iou_threshold=self.nms_threshold, score_threshold=self.score_threshold,
            pre_nms_top_k=self.detection_pre_nms_top_k)
        return boxes, scores, classes + 1, count  # padding rows: class -1 + 1 = 0

    def export_variants(self, input_size=None, *, builtin_ops=False, signatures=None):
        """Functional models of this detector for export, by serving signature:
        ``{"serving_default", "pasted_masks"}`` taking ``images [B, H, W, 3]`` raw
        pixels, sharing this model's weights (``input_size``, ``builtin_ops`` and
        ``signatures`` as `serving_variants.serving_variants` documents).
        ``keras_zoo.export`` calls it: a subclassed model has no ``inputs``.
        """
        return serving_variants(self, input_size, builtin_ops=builtin_ops,
                                signatures=signatures)

    # ------------------------------------------------------------------ training
    def _ground_truth(self, y, input_sizes, sizes):
        """Ground truth scaled with the image: boxes, classes, valid, masks."""
        if not isinstance(y, dict) or not {"boxes", "classes", "masks"} <= set(y):
            raise ValueError("Expected y as a dict with 'boxes', 'classes', 'masks' (and "
                             f"optional 'valid'). Received: {type(y).__name__} "
                             f"{sorted(y) if isinstance(y, dict) else ''}")
        classes = tf.cast(y["classes"], tf.int32)
        valid = tf.cast(y["valid"], tf.bool) if "valid" in y else classes > 0
        ratio = tf.cast(sizes, tf.float32) / tf.cast(input_sizes, tf.float32)
        scale = tf.tile(tf.reverse(ratio, [1]), [1, 2])[:, None, :]
        boxes, valid, classes, masks = ops.targets.pad_empty_ground_truth(
            tf.cast(y["boxes"], tf.float32) * scale, valid, tf.where(valid, classes, 0),
            tf.convert_to_tensor(y["masks"]))
        return {"boxes": boxes, "classes": classes, "valid": valid, "masks": masks}

    def _image_seeds(self, batch):
        """Per-image stateless seeds ``([B, 2] for the anchors, [B, 2] for the RoIs)`` from
        (seed, optimizer step, global image index): the same for an image whichever
        replica holds it."""
        optimizer = getattr(self, "optimizer", None)
        step = (tf.cast(optimizer.iterations, tf.int64) if optimizer is not None
                else tf.constant(0, tf.int64))
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        index = (tf.cast(replica, tf.int64) * tf.cast(batch, tf.int64)
                 + tf.range(tf.cast(batch, tf.int64)))
        key = 2 * (step * 2**20 + index)
        seed = tf.fill(tf.shape(index), tf.constant(self._sampling_seed, tf.int64))
        return tf.stack([seed, key], 1), tf.stack([seed, key + 1], 1)

    def loss_terms(self, x, y, training=True):
        """The five loss terms of a batch, each a float32 scalar (see the class docstring)."""
        images, input_sizes, sizes = self._preprocess(x)
        gt = self._ground_truth(y, input_sizes, sizes)
        pyramid = self.backbone(tf.cast(images, self.compute_dtype), training=training)
        objectness, deltas, anchors = self._rpn(pyramid, _hw(images))
        rpn_seeds, roi_seeds = self._image_seeds(tf.shape(images)[0])
        rpn = ops.targets.rpn_targets(tf.concat(anchors, 0), gt["boxes"], gt["valid"], rpn_seeds,
                                      num_samples=self.rpn_num_samples,
                                      positive_fraction=self.rpn_positive_fraction)
        sampled_logits = tf.gather(tf.concat(objectness, 1), rpn["indices"], batch_dims=1)
        sampled_deltas = tf.gather(tf.concat(deltas, 1), rpn["indices"], batch_dims=1)
        terms = {
            "rpn_objectness": losses.objectness_loss(sampled_logits, rpn["labels"],
                                                     rpn["weights"]),
            "rpn_box": losses.box_loss(sampled_deltas, rpn["box_targets"], rpn["positive"],
                                       rpn["weights"]),
        }
        proposals, _, valid = self._proposals(objectness, deltas, anchors, sizes, True)
        rois = ops.targets.roi_targets(
            proposals, valid, gt["boxes"], gt["classes"], gt["valid"], roi_seeds,
            num_samples=self.roi_num_samples, positive_fraction=self.roi_positive_fraction)
        logits, box_deltas = self.box_head([pyramid, rois["rois"]])
        class_deltas = tf.gather(tf.cast(box_deltas, tf.float32), rois["classes"], batch_dims=2)
        terms["classifier"] = losses.classification_loss(
            tf.cast(logits, tf.float32), rois["classes"], rois["weights"])
        terms["box"] = losses.box_loss(class_deltas, rois["box_targets"], rois["positive"],
                                       rois["weights"])
        terms["mask"] = self._mask_loss(pyramid, rois, gt, tf.shape(images)[0])
        return terms

    def _mask_loss(self, pyramid, rois, gt, batch):
        """Mask term of the sampled positives (``rois`` from ``ops.targets.roi_targets``).

        The mask head runs on the positives only (a dynamic count, as torchvision):
        the sampler puts them first, so they lie within the first S * fraction
        columns. One zero-weight row (image 0, sample 0) keeps the count above 0: TF's
        Conv2D mishandles empty batches.
        """
        slots = int(self.roi_num_samples * self.roi_positive_fraction)
        where = tf.concat([tf.cast(tf.where(rois["positive"][:, :slots]), tf.int32),
                           tf.zeros([1, 2], tf.int32)], axis=0)  # [K + 1, 2]
        weights = tf.concat([tf.ones([tf.shape(where)[0] - 1]), [0.0]], axis=0)
        image_ids = where[:, 0]
        mask_rois = tf.gather_nd(rois["rois"], where)
        logits = self._select_class(self.mask_head([pyramid, mask_rois, image_ids]),
                                    tf.gather_nd(rois["classes"], where))
        matched = tf.stack([image_ids, tf.gather_nd(rois["matched"], where)], axis=1)
        targets = ops.masks.crop_box_masks(
            tf.gather_nd(gt["masks"], matched), tf.gather_nd(gt["boxes"], matched), mask_rois,
            output_size=logits.shape[-1])
        return losses.mask_loss(logits, targets, image_ids, weights, batch)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Total loss of a batch, divided by the replicas in sync (Keras' convention, so
        the sum over replicas is the global mean); ``y_pred`` is not used."""
        total = tf.add_n(list(self.loss_terms(x, y, training=training).values()))
        return self._with_regularization(total) / self.distribute_strategy.num_replicas_in_sync

    def _with_regularization(self, total):
        return total + tf.add_n(self.losses) if self.losses else total

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _record(self, total, terms):
        self._trackers["loss"].update_state(total)
        for name, value in terms.items():
            self._trackers[name].update_state(value)
        return {tracker.name: tracker.result() for tracker in self._trackers.values()}

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self.loss_terms(x, y, training=True)
            total = self._with_regularization(tf.add_n(list(terms.values())))
            scaled = self.optimizer.scale_loss(total / replicas)
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._record(total, terms)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        terms = self.loss_terms(x, y, training=False)
        return self._record(self._with_regularization(tf.add_n(list(terms.values()))), terms)

    def compile(self, optimizer=None, jit_compile=False, **kwargs):
        """SGD, momentum 0.9, weight decay 1e-4, lr 0.0025 (the 1x recipe's 0.02 at 16
        images per batch, scaled linearly to 2); no XLA (NMS and crop_and_resize do not
        compile)."""
        if optimizer is None:
            optimizer = keras.optimizers.SGD(0.0025, momentum=0.9, weight_decay=1e-4)
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({name: _serialized(value) for name, value in self._given.items()})
        config.update({
            "num_classes": self.num_classes,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "pixel_mean": self.pixel_mean,
            "pixel_std": self.pixel_std,
            "anchor_sizes": self.anchor_sizes,
            "aspect_ratios": self.aspect_ratios,
            "rpn_pre_nms_top_n": self.rpn_pre_nms_top_n,
            "rpn_post_nms_top_n": self.rpn_post_nms_top_n,
            "rpn_nms_threshold": self.rpn_nms_threshold,
            "rpn_num_samples": self.rpn_num_samples,
            "rpn_positive_fraction": self.rpn_positive_fraction,
            "roi_num_samples": self.roi_num_samples,
            "roi_positive_fraction": self.roi_positive_fraction,
            "score_threshold": self.score_threshold,
            "nms_threshold": self.nms_threshold,
            "detections_per_image": self.detections_per_image,
            "detection_pre_nms_top_k": self.detection_pre_nms_top_k,
            "use_roi_align": self.use_roi_align,
            "aligned": self.aligned,
            "paste_masks": self.paste_masks,
            "seed": self.seed,
        })
        return config
