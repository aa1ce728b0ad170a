"""`FasterRCNN`: the two-stage detector task: backbone, RPN and RoI box parts, its losses."""

import keras
import tensorflow as tf

from keras_zoo import ops
from keras_zoo.layers.image_normalization import ImageNormalization
from keras_zoo.models.loss_terms import LossTermsModel
from keras_zoo.models.mask_rcnn import losses
from keras_zoo.models.mask_rcnn.anchor_generator import AnchorGenerator
from keras_zoo.models.mask_rcnn.balanced_sampler import BalancedSampler
from keras_zoo.models.mask_rcnn.box_coder import BoxCoder
from keras_zoo.models.mask_rcnn.box_head import BoxHead
from keras_zoo.models.mask_rcnn.box_predictor import BoxPredictor
from keras_zoo.models.mask_rcnn.detector_inputs import hw, preprocess
from keras_zoo.models.mask_rcnn.detector_variants import variant_parts
from keras_zoo.models.mask_rcnn.fpn_backbone import FPNBackbone
from keras_zoo.models.mask_rcnn.matcher import Matcher
from keras_zoo.models.mask_rcnn.roi_poolers import roi_poolers
from keras_zoo.models.mask_rcnn.rpn_head import RPNHead
from keras_zoo.models.mask_rcnn.serving_variants import serving_variants
from keras_zoo.models.preset import PresetMixin
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS

# "resnet50_fpn" -> ResNet-50 body + FPN (every ImageNet ResNet of the variants table).
BACKBONES = {f"{name}_fpn": name for name, row in VARIANTS.items() if row["stem"] == "imagenet"}
COCO_CLASSES = 91  # COCO's category ids 1..90 and background 0 (torchvision's heads)
BOX_MIN_SIZE = 1e-2  # torchvision roi_heads: detections narrower than this are dropped
_TORCH = NORMALIZATIONS["torch"]


def _deserialized(value):
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value


def _default_parts(backbone):
    """The paper's parts (torchvision's ``fasterrcnn_resnet50_fpn``), by argument name."""
    return {
        "backbone": lambda: FPNBackbone.from_variant(BACKBONES[backbone], name="backbone"),
        "anchor_generator": AnchorGenerator,  # 32..512 on P2..P6, ratios 0.5, 1, 2
        "rpn_head": None,  # built for the anchor generator's count (below)
        "box_roi_pool": lambda: roi_poolers(masks=False)["box_roi_pool"],  # 7x7 on P2..P5
        "box_head": lambda: BoxHead(name="box_head"),  # "2fc": 2 x fc 1024
        "box_predictor": None,  # built for num_classes (below)
        # Faster R-CNN Sec. 3.1.2: RPN IoU >= 0.7 / < 0.3, best anchors, 256 per image.
        "rpn_matcher": lambda: Matcher(0.7, 0.3, allow_low_quality_matches=True),
        "rpn_sampler": lambda: BalancedSampler(256, 0.5),
        "rpn_box_coder": lambda: BoxCoder(ops.boxes.RPN_BOX_WEIGHTS),
        # Mask R-CNN Sec. 3.1: RoIs positive at IoU >= 0.5, 512 per image, 1:3.
        "roi_matcher": lambda: Matcher(0.5, 0.5, allow_low_quality_matches=False),
        "roi_sampler": lambda: BalancedSampler(512, 0.25),
        "roi_box_coder": lambda: BoxCoder(ops.boxes.HEAD_BOX_WEIGHTS),
    }


@keras.saving.register_keras_serializable(package="keras_zoo")
class FasterRCNN(PresetMixin, LossTermsModel):
    """Faster R-CNN with FPN (Ren et al. 2015; Lin et al. 2017), trained by ``model.fit``:
    a task that holds its parts, each injected and defaulting to the paper's
    (torchvision's ``fasterrcnn_resnet50_fpn``); `MaskRCNN` is this task plus mask parts.

    Parts: ``backbone`` (normalised images -> ``{"P2": ..., "P6": ...}``; default
    `FPNBackbone`: ResNet-50 + FPN, frozen BN, stem and conv2 frozen),
    ``anchor_generator`` (`AnchorGenerator`: 32..512 x ratios 0.5, 1, 2), ``rpn_head``
    (`RPNHead`), ``box_roi_pool`` (`layers.MultiLevelRoIAlign`: 7x7 RoIAlign; RoIAlign
    against RoIPool and the ``aligned`` convention are the pooler's settings),
    ``box_head`` (`BoxHead`: 2 fc 1024) and ``box_predictor`` (`BoxPredictor`: classes
    and class-specific deltas), and the target assignment of the RPN and of the RoI
    heads: ``rpn_matcher`` / ``roi_matcher`` (`Matcher`: IoU 0.7 / 0.3 with the
    best-anchor rule; 0.5), ``rpn_sampler`` / ``roi_sampler`` (`BalancedSampler`: 256
    anchors half positive; 512 RoIs 25% positive), ``rpn_box_coder`` /
    ``roi_box_coder`` (`BoxCoder`: weights 1, 1, 1, 1; 10, 10, 5, 5). Replacing the
    predictor (`replace`) retargets the detector to other classes.

    **Inference** (``call`` / ``predict``; the same graph exports): raw pixels
    ``[B, H, W, 3]`` (uint8 or float in [0, 255]) of any size, or a dict
    ``{"images": [B, H, W, 3], "image_sizes": [B, 2]}`` for a padded batch of mixed
    sizes (image ``b`` in ``[:h_b, :w_b]``). Inside the model: normalisation,
    resize (shorter side ``min_size``, longer <= ``max_size``), padding to a
    multiple of 32, RPN proposals (``ops.proposals``), the box head, per-class NMS
    (``nms_threshold``) of detections scoring above ``score_threshold``, the
    ``detections_per_image`` best; boxes are mapped back to the input image's
    pixels. Returns a dict:

    - ``boxes [B, D, 4]`` float32 ``xyxy`` in input pixels (D = ``detections_per_image``);
    - ``scores [B, D]`` float32; ``classes [B, D]`` int32 classifier indices (>= 1);
    - ``num_detections [B]`` int32; rows past it are zero (class 0).

    **Training** (``fit``): ``x`` as for inference; ``y`` a dict of padded ground truth
    in input pixels, G instances per image: ``boxes [B, G, 4]`` float32 ``xyxy``,
    ``classes [B, G]`` int classifier indices in ``[1, num_classes)``, ``valid [B, G]``
    bool (optional; default ``classes > 0``). The model applies the same resize
    policy (the boxes scale with the image). Loss terms (`LossTermsModel`, each a
    metric; torchvision's rules, ``losses`` module): ``rpn_objectness_loss`` (BCE) and
    ``rpn_box_loss`` (smooth L1) over the RPN's sampled anchors, ``classifier_loss``
    and ``box_loss`` over the sampled RoIs (the ground truth joins the proposals).
    Sampling draws from stateless seeds of (``seed``, optimizer step, global image
    index), so one device and a MirroredStrategy split see the same samples.

    Args:
        num_classes: classifier outputs, background 0 included; None: the predictor's
            (91, COCO's ids, when the default predictor is built).
        backbone: a `keras.Model` as above (or its config), or a name of ``BACKBONES``
            ("resnet50_fpn", ...: `FPNBackbone.from_variant`).
        anchor_generator, rpn_head, box_roi_pool, box_head, box_predictor: the parts
            above (or their configs); None builds the paper's.
        rpn_matcher, rpn_sampler, rpn_box_coder, roi_matcher, roi_sampler, roi_box_coder:
            the target-assignment parts above (or their configs); None builds the paper's.
        min_size, max_size: resize policy (800, 1333; Mask R-CNN Sec. 3.1).
        pixel_mean, pixel_std: normalisation of RGB pixels in [0, 255] (ImageNet's).
        rpn_pre_nms_top_n, rpn_post_nms_top_n: ``(train, test)`` proposal counts per
            level before NMS / per image after ((2000, 1000) both).
        rpn_nms_threshold: proposal NMS IoU (0.7).
        score_threshold, nms_threshold, detections_per_image: inference (0.05, 0.5, 100).
        detection_pre_nms_top_k: candidates (box, class) kept before the final NMS
            (5000; TF Model Garden's bound; torchvision has none).
        seed: int seed of the anchor and RoI sampling (None: random).
        **kwargs: `keras.Model` arguments.

    Example:

    >>> model = FasterRCNN(3, FPNBackbone.from_variant("resnet18", channels=16),
    ...                    min_size=64, max_size=64)
    >>> model.predict(np.zeros((1, 48, 64, 3), "uint8"), verbose=0)["boxes"].shape
    (1, 100, 4)
    """

    PARTS = ("backbone", "anchor_generator", "rpn_head", "box_roi_pool", "box_head",
             "box_predictor", "rpn_matcher", "rpn_sampler", "rpn_box_coder", "roi_matcher",
             "roi_sampler", "roi_box_coder")
    PREDICTORS = ("box_predictor",)  # the parts whose outputs are per class
    POOLERS = ("box_roi_pool",)  # the RoI poolers (TFLite export swaps their implementation)
    LOSS_TERMS = ("rpn_objectness_loss", "rpn_box_loss", "classifier_loss", "box_loss")
    TARGETS = ("boxes", "classes")  # the ground truth `fit` needs
    SETTINGS = ("num_classes", "min_size", "max_size", "pixel_mean", "pixel_std",
                "rpn_pre_nms_top_n", "rpn_post_nms_top_n", "rpn_nms_threshold",
                "score_threshold", "nms_threshold", "detections_per_image",
                "detection_pre_nms_top_k", "seed")
    # Serving signature -> the constructor arguments its variant changes (`export_variants`).
    SIGNATURES = {"serving_default": {}}

    def __init__(self, num_classes=None, backbone="resnet50_fpn", *, anchor_generator=None,
                 rpn_head=None, box_roi_pool=None, box_head=None, box_predictor=None,
                 rpn_matcher=None, rpn_sampler=None, rpn_box_coder=None, roi_matcher=None,
                 roi_sampler=None, roi_box_coder=None, min_size=800, max_size=1333,
                 pixel_mean=_TORCH["mean"], pixel_std=_TORCH["std"],
                 rpn_pre_nms_top_n=(2000, 1000), rpn_post_nms_top_n=(2000, 1000),
                 rpn_nms_threshold=0.7, score_threshold=0.05, nms_threshold=0.5,
                 detections_per_image=100, detection_pre_nms_top_k=5000, seed=None, **kwargs):
        parts = dict(backbone=backbone, anchor_generator=anchor_generator, rpn_head=rpn_head,
                     box_roi_pool=box_roi_pool, box_head=box_head, box_predictor=box_predictor,
                     rpn_matcher=rpn_matcher, rpn_sampler=rpn_sampler,
                     rpn_box_coder=rpn_box_coder, roi_matcher=roi_matcher,
                     roi_sampler=roi_sampler, roi_box_coder=roi_box_coder)
        extra = {name: kwargs.pop(name) for name in self.PARTS if name in kwargs}
        super().__init__(**kwargs)
        parts = {name: _deserialized(value) for name, value in {**parts, **extra}.items()}
        if isinstance(parts["backbone"], str) and parts["backbone"] not in BACKBONES:
            raise ValueError(f"Expected backbone to be one of {sorted(BACKBONES)} or a "
                             f"keras.Model. Received: backbone={parts['backbone']!r}")
        self.num_classes = self._resolve_num_classes(num_classes, parts)
        defaults = {**_default_parts(parts["backbone"]), **self._extra_defaults()}
        for name in self.PARTS:
            part = parts[name]
            if (part is None or name == "backbone" and isinstance(part, str)) and defaults[name]:
                part = defaults[name]()
            setattr(self, name, part)
        self._build_class_parts()
        pyramid = self.backbone.compute_output_shape((None, None, None, 3))
        if len(pyramid) != self.anchor_generator.num_levels:
            raise ValueError(f"Expected one anchor size per pyramid level {sorted(pyramid)}. "
                             f"Received: anchor sizes {self.anchor_generator.sizes}")
        if self.rpn_head is None:
            self.rpn_head = RPNHead(self.anchor_generator.num_anchors_per_location,
                                    name="rpn_head")
        if getattr(self.rpn_head, "num_anchors", None) not in (
                None, self.anchor_generator.num_anchors_per_location):
            raise ValueError("Expected an RPN head with the anchor generator's "
                             f"{self.anchor_generator.num_anchors_per_location} anchors per "
                             f"position. Received: num_anchors={self.rpn_head.num_anchors}")
        self.normalization = ImageNormalization(pixel_mean, pixel_std, dtype="float32",
                                                name="normalization")
        self.min_size, self.max_size = int(min_size), int(max_size)
        self.pixel_mean, self.pixel_std = tuple(pixel_mean), tuple(pixel_std)
        self.rpn_pre_nms_top_n = tuple(int(n) for n in rpn_pre_nms_top_n)
        self.rpn_post_nms_top_n = tuple(int(n) for n in rpn_post_nms_top_n)
        self.rpn_nms_threshold = float(rpn_nms_threshold)
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.detections_per_image = int(detections_per_image)
        self.detection_pre_nms_top_k = int(detection_pre_nms_top_k)
        self.seed = seed
        self._sampling_seed = int(seed) if seed is not None else int(
            keras.random.randint((), 0, 2**31 - 1))
        self._build_parts(pyramid)
        self.track_loss_terms(self.LOSS_TERMS)
        self.built = True

    # ------------------------------------------------------------------ construction
    def _extra_defaults(self):
        """Default builders of a subclass's extra parts (MaskRCNN's)."""
        return {}

    def _resolve_num_classes(self, num_classes, parts):
        given = {name: parts[name].num_classes for name in self.PREDICTORS
                 if parts.get(name) is not None}
        counts = set(given.values()) | ({num_classes} if num_classes is not None else set())
        if len(counts) > 1:
            raise ValueError("Expected the predictors and num_classes to agree on the number "
                             f"of classes. Received: num_classes={num_classes}, {given}")
        return int(counts.pop()) if counts else COCO_CLASSES

    def _build_class_parts(self):
        if self.box_predictor is None:
            self.box_predictor = BoxPredictor(self.num_classes, name="box_predictor")

    def _build_parts(self, pyramid):
        """Builds every part with weights from the pyramid's shapes (a deserialised
        part comes built), so weights exist before the first call."""
        if not self.rpn_head.built:
            self.rpn_head.build(pyramid)
        self._build_roi_branch(pyramid, self.box_roi_pool, self.box_head, self.box_predictor)

    @staticmethod
    def _build_roi_branch(pyramid, pooler, head, predictor):
        roi = tf.TensorShape([None, 4])
        pooled = pooler.compute_output_shape([pyramid, roi, tf.TensorShape([None])])
        if not head.built:
            head.build(pooled)
        if not predictor.built:
            predictor.build(head.compute_output_shape(pooled))

    @property
    def parts(self):
        """``{argument name: part}``: the live parts (shared by `replace`)."""
        return {name: getattr(self, name) for name in self.PARTS}

    def replace(self, **changes):
        """A new detector of this class with some constructor arguments changed, sharing
        every other part (and its weights) with this one. Fine-tuning to new classes:
        ``detector.replace(box_predictor=BoxPredictor(6))`` (and, for `MaskRCNN`,
        ``mask_predictor=MaskPredictor(6)``); ``num_classes`` follows the predictors."""
        arguments = {**{name: getattr(self, name) for name in self.SETTINGS}, **self.parts,
                     "name": self.name}
        if set(changes) & set(self.PREDICTORS) and "num_classes" not in changes:
            arguments["num_classes"] = None
        return type(self)(**{**arguments, **changes})

    @classmethod
    def from_variant(cls, variant="resnet50_fpn", num_classes=None, **overrides):
        """torchvision's architecture `variant` (`DETECTOR_VARIANTS`: "resnet50_fpn" or
        "resnet50_fpn_v2") as this task, ``num_classes`` (None: 91, COCO's ids), with
        `overrides` replacing constructor arguments (parts or settings)."""
        parts = variant_parts(variant, [name for name in cls.PARTS if name not in overrides])
        return cls(num_classes, **{**parts, **overrides})

    def with_classes(self, num_classes):
        """This detector retargeted to `num_classes` (background included): new predictors,
        every other part shared (`replace`); self when the count is the same."""
        if num_classes == self.num_classes:
            return self
        return self.replace(**self._new_predictors(num_classes))

    def _new_predictors(self, num_classes):
        return {"box_predictor": BoxPredictor(num_classes, name="box_predictor")}

    # ------------------------------------------------------------------ shared stages
    def _rpn(self, pyramid, padded_hw):
        """Objectness and deltas per level (float32) and the anchors of each level."""
        objectness, deltas = self.rpn_head(pyramid)
        names = sorted(pyramid, key=lambda name: int(name[1:]))
        anchors = self.anchor_generator(padded_hw, [hw(pyramid[name]) for name in names])
        return ([tf.cast(o, tf.float32) for o in objectness],
                [tf.cast(d, tf.float32) for d in deltas], anchors)

    def _proposals(self, objectness, deltas, anchors, sizes, training):
        mode = 0 if training else 1
        return ops.proposals.generate_proposals(
            objectness, deltas, anchors, sizes, pre_nms_top_n=self.rpn_pre_nms_top_n[mode],
            post_nms_top_n=self.rpn_post_nms_top_n[mode], nms_threshold=self.rpn_nms_threshold,
            decode=self.rpn_box_coder.decode)

    def _box_outputs(self, pyramid, rois, training):
        """Box branch on ``rois [B, R, 4]``: ``(logits [B, R, C], deltas [B, R, C, 4])``,
        float32."""
        batch, count = (d if d is not None else tf.shape(rois)[i]
                        for i, d in enumerate(rois.shape[:2]))
        pooled = self.box_roi_pool([pyramid, tf.reshape(rois, [-1, 4]),
                                    tf.repeat(tf.range(batch), count)])
        logits, deltas = self.box_predictor(self.box_head(pooled, training=training))
        return (tf.reshape(tf.cast(logits, tf.float32), [batch, count, self.num_classes]),
                tf.reshape(tf.cast(deltas, tf.float32), [batch, count, self.num_classes, 4]))

    # ------------------------------------------------------------------ inference
    def _inference_candidates(self, inputs, training):
        """Everything before the final NMS: ``(pyramid, candidate boxes [B, P, C - 1, 4]
        in resized pixels, scores [B, P, C - 1], input_sizes, resized_sizes)``."""
        images, input_sizes, sizes = preprocess(self, inputs)
        pyramid = self.backbone(tf.cast(images, self.compute_dtype), training=training)
        objectness, deltas, anchors = self._rpn(pyramid, hw(images))
        proposals, _, valid = self._proposals(objectness, deltas, anchors, sizes, False)
        logits, box_deltas = self._box_outputs(pyramid, proposals, training)
        boxes, scores = self._candidates(logits, box_deltas, proposals, valid, sizes)
        return pyramid, boxes, scores, input_sizes, sizes

    @staticmethod
    def _to_input_pixels(boxes, input_sizes, sizes):
        """``[B, ..., 4]`` boxes from resized to input pixels, clipped to the input."""
        ratio = tf.cast(input_sizes, tf.float32) / tf.cast(sizes, tf.float32)
        scale = tf.tile(tf.reverse(ratio, [1]), [1, 2])
        shape = tf.shape(boxes)
        flat = tf.reshape(boxes, [shape[0], -1, 4]) * scale[:, None, :]
        return tf.reshape(ops.boxes.clip_to_image(flat, input_sizes), shape)

    def call(self, inputs, training=False):
        pyramid, boxes, scores, input_sizes, sizes = self._inference_candidates(inputs, training)
        boxes, scores, classes, count = ops.nms.multiclass_nms(
            boxes, scores, max_detections=self.detections_per_image,
            iou_threshold=self.nms_threshold, score_threshold=self.score_threshold,
            pre_nms_top_k=self.detection_pre_nms_top_k)
        classes = classes + 1  # classifier indices; padding rows: -1 + 1 = 0
        outputs = self._detection_outputs(pyramid, boxes, classes, inputs)
        kept = tf.range(self.detections_per_image)[None, :] < count[:, None]
        boxes = tf.where(kept[..., None], self._to_input_pixels(boxes, input_sizes, sizes), 0.0)
        outputs = {"boxes": boxes, "scores": scores, "classes": classes, **outputs,
                   "num_detections": count}
        return self._finish_outputs(outputs, inputs)

    def _detection_outputs(self, pyramid, boxes, classes, inputs):
        """Outputs of the subclass's extra branches on the detections (resized pixels)."""
        return {}

    def _finish_outputs(self, outputs, inputs):
        """Outputs that need the boxes in input pixels (MaskRCNN's pasted masks)."""
        return outputs

    def _candidates(self, logits, deltas, proposals, valid, sizes):
        """Per-class decoding and clipping of every proposal (torchvision
        ``postprocess_detections`` before its NMS): ``(boxes [B, P, C - 1, 4], scores
        [B, P, C - 1])``, background left out, scores 0 for invalid rows and boxes
        narrower than `BOX_MIN_SIZE`."""
        boxes = self.roi_box_coder.decode(deltas, proposals[:, :, None, :])
        shape = tf.shape(boxes)
        boxes = tf.reshape(ops.boxes.clip_to_image(tf.reshape(boxes, [shape[0], -1, 4]), sizes),
                           shape)
        wide = ((boxes[..., 2] - boxes[..., 0]) >= BOX_MIN_SIZE) & (
            (boxes[..., 3] - boxes[..., 1]) >= BOX_MIN_SIZE)
        scores = tf.where(wide & valid[:, :, None], tf.nn.softmax(logits), 0.0)
        return boxes[:, :, 1:], scores[:, :, 1:]

    def detection_candidates(self, inputs):
        """The candidates the final NMS chooses the detections from, in input pixels: every
        (proposal, class) pair scoring at least ``score_threshold``, as a dict of NumPy
        arrays ``boxes [B, N, 4]``, ``scores [B, N]`` and ``classes [B, N]`` (classifier
        indices; rows below the threshold have class 0 and score 0). Exporters check an
        exported detector against them (`keras_zoo.export.detections`): a detection it
        keeps must be one of these, and one it drops must be explained by NMS."""
        return {k: v.numpy() for k, v in tf.function(self._flat_candidates)(inputs).items()}

    def _flat_candidates(self, inputs):
        """`detection_candidates` as tensors (traced as a graph, like an export)."""
        _, boxes, scores, input_sizes, sizes = self._inference_candidates(inputs, False)
        boxes = self._to_input_pixels(boxes, input_sizes, sizes)
        classes = tf.broadcast_to(tf.range(1, self.num_classes), tf.shape(scores))
        keep = scores >= self.score_threshold
        batch = tf.shape(scores)[0]
        return {"boxes": tf.reshape(boxes, [batch, -1, 4]),
                "scores": tf.reshape(tf.where(keep, scores, 0.0), [batch, -1]),
                "classes": tf.reshape(tf.where(keep, classes, 0), [batch, -1])}

    def export_variants(self, input_size=None, *, builtin_ops=False, signatures=None):
        """Functional models of this detector for export, by serving signature
        (`SIGNATURES`), taking ``images [B, H, W, 3]`` raw pixels and sharing this
        model's weights (``input_size``, ``builtin_ops`` and ``signatures`` as
        `serving_variants.serving_variants` documents). ``keras_zoo.export`` calls it:
        a subclassed model has no ``inputs``."""
        return serving_variants(self, input_size, builtin_ops=builtin_ops,
                                signatures=signatures)

    # ------------------------------------------------------------------ training
    def _ground_truth(self, y, input_sizes, sizes):
        """Ground truth scaled with the image: boxes, classes, valid (and the rest)."""
        if not isinstance(y, dict) or not set(self.TARGETS) <= set(y):
            raise ValueError(f"Expected y as a dict with {', '.join(map(repr, self.TARGETS))} "
                             "(and optional 'valid'). Received: "
                             f"{type(y).__name__} {sorted(y) if isinstance(y, dict) else ''}")
        classes = tf.cast(y["classes"], tf.int32)
        valid = tf.cast(y["valid"], tf.bool) if "valid" in y else classes > 0
        ratio = tf.cast(sizes, tf.float32) / tf.cast(input_sizes, tf.float32)
        scale = tf.tile(tf.reverse(ratio, [1]), [1, 2])[:, None, :]
        others = [tf.convert_to_tensor(y[name]) for name in self.TARGETS[2:]]
        boxes, valid, classes, *others = ops.targets.pad_empty_ground_truth(
            tf.cast(y["boxes"], tf.float32) * scale, valid, tf.where(valid, classes, 0),
            *others)
        return {"boxes": boxes, "classes": classes, "valid": valid,
                **dict(zip(self.TARGETS[2:], others))}

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

    def loss_terms(self, x, y=None, training=True):
        """The loss terms of a batch, each a float32 scalar (see the class docstring)."""
        images, input_sizes, sizes = preprocess(self, x, keep_padding=True)
        gt = self._ground_truth(y, input_sizes, sizes)
        pyramid = self.backbone(tf.cast(images, self.compute_dtype), training=training)
        objectness, deltas, anchors = self._rpn(pyramid, hw(images))
        rpn_seeds, roi_seeds = self._image_seeds(tf.shape(images)[0])
        rpn = ops.targets.rpn_targets(
            tf.concat(anchors, 0), gt["boxes"], gt["valid"], rpn_seeds, match=self.rpn_matcher,
            sample=self.rpn_sampler, encode=self.rpn_box_coder.encode)
        sampled_logits = tf.gather(tf.concat(objectness, 1), rpn["indices"], batch_dims=1)
        sampled_deltas = tf.gather(tf.concat(deltas, 1), rpn["indices"], batch_dims=1)
        terms = {
            "rpn_objectness_loss": losses.objectness_loss(sampled_logits, rpn["labels"],
                                                          rpn["weights"]),
            "rpn_box_loss": losses.box_loss(sampled_deltas, rpn["box_targets"],
                                            rpn["positive"], rpn["weights"]),
        }
        proposals, _, valid = self._proposals(objectness, deltas, anchors, sizes, True)
        rois = ops.targets.roi_targets(
            proposals, valid, gt["boxes"], gt["classes"], gt["valid"], roi_seeds,
            match=self.roi_matcher, sample=self.roi_sampler, encode=self.roi_box_coder.encode)
        logits, box_deltas = self._box_outputs(pyramid, rois["rois"], training)
        class_deltas = tf.gather(box_deltas, rois["classes"], batch_dims=2)
        terms["classifier_loss"] = losses.classification_loss(logits, rois["classes"],
                                                              rois["weights"])
        terms["box_loss"] = losses.box_loss(class_deltas, rois["box_targets"], rois["positive"],
                                            rois["weights"])
        return {**terms, **self._extra_terms(pyramid, rois, gt, tf.shape(images)[0], training)}

    def _extra_terms(self, pyramid, rois, gt, batch, training):
        """Loss terms of the subclass's extra branches on the sampled RoIs."""
        return {}

    def compile(self, optimizer=None, jit_compile=False, **kwargs):
        """SGD, momentum 0.9, weight decay 1e-4, lr 0.0025 (the 1x recipe's 0.02 at 16
        images per batch, scaled linearly to 2); no XLA (NMS and crop_and_resize do not
        compile)."""
        if optimizer is None:
            optimizer = keras.optimizers.SGD(0.0025, momentum=0.9, weight_decay=1e-4)
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": keras.dtype_policies.serialize(self.dtype_policy)}
        config.update({name: getattr(self, name) for name in self.SETTINGS})
        config.update({name: keras.saving.serialize_keras_object(part)
                       for name, part in self.parts.items()})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
