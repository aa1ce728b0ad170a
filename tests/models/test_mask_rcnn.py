"""MaskRCNN on a tiny configuration (tests/models/mask_rcnn_tiny.py, 64x64 images):
stage shapes and dtypes, padded batches, loss terms, learning, MirroredStrategy,
mixed precision, .keras round trip, swapped parts (the RoIPool ablation among them),
FasterRCNN, replaced predictors, configs and errors."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import layers, models
from keras_zoo.export.detections import match_detections
from keras_zoo.models.mask_rcnn import (
    LOSS_TERMS,
    AnchorGenerator,
    BalancedSampler,
    BoxHead,
    BoxPredictor,
    FasterRCNN,
    FPNBackbone,
    MaskPredictor,
    MaskRCNN,
    Matcher,
    roi_poolers,
)
from tests.harness import assert_config_matches_signature, assert_outputs_close
from tests.models.mask_rcnn_tiny import NUM_CLASSES, SIZE, synthetic_batch, tiny_mask_rcnn

TERMS = LOSS_TERMS  # rpn_objectness_loss, rpn_box_loss, classifier_loss, box_loss, mask_loss
# Two runs of one float32 graph on the same inputs (a reloaded model, a padded batch):
# equal up to the summation order TensorFlow picks (~1e-6 of values of order 1-100).
SAME_GRAPH_ATOL = 1e-4


@pytest.fixture(scope="module")
def model():
    return tiny_mask_rcnn()


def _detections(out, b):
    n = int(out["num_detections"][b])
    return {k: np.asarray(out[k][b][:n]) for k in ("boxes", "scores", "classes", "masks")}


def test_stage_shapes_and_dtypes(model):
    images = np.zeros((2, SIZE, SIZE, 3), np.float32)
    pyramid = model.backbone(images)
    assert {k: tuple(v.shape) for k, v in pyramid.items()} == {
        f"P{k}": (2, SIZE >> k, SIZE >> k, 16) for k in (2, 3, 4, 5, 6)}
    objectness, deltas = model.rpn_head(pyramid)
    assert [tuple(o.shape) for o in objectness] == [(2, (SIZE >> k) ** 2 * 3) for k in range(2, 7)]
    assert [tuple(d.shape) for d in deltas] == [(2, (SIZE >> k) ** 2 * 3, 4) for k in range(2, 7)]
    rois = np.array([[0, 0, 16, 16], [8, 8, 60, 40]] * 2, np.float32)
    image_ids = np.array([0, 0, 1, 1], np.int32)
    pooled = model.box_roi_pool([pyramid, rois, image_ids])
    assert pooled.shape == (4, 7, 7, 16)
    logits, box_deltas = model.box_predictor(model.box_head(pooled))
    assert logits.shape == (4, NUM_CLASSES) and box_deltas.shape == (4, NUM_CLASSES, 4)
    masks = model.mask_predictor(model.mask_head(model.mask_roi_pool([pyramid, rois, image_ids])))
    assert masks.shape == (4, 28, 28, NUM_CLASSES)
    selected = model.mask_logits(pyramid, rois, image_ids, np.array([1, 2, 1, 2]))
    np.testing.assert_array_equal(selected[1], masks[1, :, :, 2])  # the class's map, copied

    x, _ = synthetic_batch()
    out = model.predict(x, verbose=0)  # raw uint8 pixels
    assert {k: (v.shape, v.dtype) for k, v in out.items()} == {
        "boxes": ((2, 10, 4), np.float32), "scores": ((2, 10), np.float32),
        "classes": ((2, 10), np.int32), "masks": ((2, 10, 28, 28), np.float32),
        "num_detections": ((2,), np.int32)}
    for b in range(2):
        n = out["num_detections"][b]
        assert 0 < n <= 10
        assert np.all(out["classes"][b, :n] >= 1) and np.all(out["classes"][b, n:] == 0)
        assert np.all(np.diff(out["scores"][b, :n]) <= 0) and np.all(out["scores"][b, n:] == 0)
        assert np.all((out["boxes"][b] >= 0) & (out["boxes"][b] <= SIZE))
        assert np.all((out["masks"][b] >= 0) & (out["masks"][b] <= 1))


def test_resize_policy_is_undone_and_padded_batches_match(model):
    """A 32x48 image is resized to 42x64 inside the model; alone, or in a zero-padded
    batch with a 64x40 image (``image_sizes``), it gets the same detections, in its
    own pixels."""
    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, (32, 48, 3)).astype(np.uint8)
    tall = rng.integers(0, 255, (64, 40, 3)).astype(np.uint8)
    alone = model.predict(small[None], verbose=0)
    batch = np.zeros((2, 64, 48, 3), np.uint8)
    batch[0, :32, :48], batch[1, :64, :40] = small, tall
    padded = model.predict({"images": batch, "image_sizes": np.array([[32, 48], [64, 40]])},
                           verbose=0)
    assert np.all(alone["boxes"][0, :, 2] <= 48) and np.all(alone["boxes"][0, :, 3] <= 32)
    assert_outputs_close(_detections(alone, 0), _detections(padded, 0), atol=SAME_GRAPH_ATOL)
    assert np.all(padded["boxes"][1, :, 2] <= 40)


def test_every_loss_finite_without_ground_truth_and_with_one_object(model):
    x, y = synthetic_batch()
    empty = {"boxes": np.zeros((2, 3, 4), np.float32), "classes": np.zeros((2, 3), np.int32),
             "masks": np.zeros((2, 3, 16, 16), np.uint8)}
    no_gt = model.loss_terms(x, empty)
    assert set(no_gt) == set(TERMS)
    assert all(np.isfinite(float(v)) for v in no_gt.values())
    # no positive anchor or RoI: only the objectness and classifier terms are non-zero
    assert float(no_gt["rpn_box_loss"]) == float(no_gt["box_loss"]) == 0.0
    assert float(no_gt["mask_loss"]) == 0.0
    assert float(no_gt["rpn_objectness_loss"]) > 0 and float(no_gt["classifier_loss"]) > 0
    one = {k: v[:1, :1] for k, v in y.items()}  # image 0, its one object, G = 1
    terms = model.loss_terms(x[:1], one)
    assert all(np.isfinite(float(v)) for v in terms.values())
    assert float(terms["mask_loss"]) > 0  # the ground truth joins the RoIs: a positive
    zero_g = {k: v[:, :0] for k, v in y.items()}  # G = 0: no ground-truth row at all
    assert all(np.isfinite(float(v)) for v in model.loss_terms(x, zero_g).values())


@pytest.mark.large
def test_all_losses_fall_when_overfitting_two_images():
    model = tiny_mask_rcnn()
    x, y = synthetic_batch()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(x, y, epochs=80, batch_size=2, verbose=0).history
    for term in ("loss",) + TERMS:
        values = np.array(history[term])
        windows = np.convolve(values, np.ones(10) / 10, mode="valid")  # 10-step means
        if term == "box_loss":
            # The box head starts with ~zero deltas and its positives are first only the
            # ground-truth boxes (zero targets): the term rises while the RPN learns to
            # propose overlapping boxes, then falls as the regression is learnt.
            assert windows[-1] < 0.8 * windows.max(), values
        else:
            assert windows[-1] < 0.5 * windows[0], (term, values)
    out = model.predict(x, verbose=0)
    from keras_zoo.ops import boxes as box_ops

    for b in range(2):  # every object found by one of the detections
        valid = y["classes"][b] > 0
        iou = box_ops.pairwise_iou(y["boxes"][b][valid], out["boxes"][b]).numpy()
        assert np.all(iou.max(axis=1) > 0.5), iou


@pytest.mark.large
def test_mirrored_strategy_matches_one_device(mirrored_strategy):
    x, y = synthetic_batch(num_images=4)
    initial = tiny_mask_rcnn().get_weights()

    def train(strategy):
        with strategy.scope():
            model = tiny_mask_rcnn()
            model.set_weights(initial)
            model.compile(optimizer=keras.optimizers.SGD(0.01))
        model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        return [w.numpy() for w in model.weights]

    one = train(tf.distribute.get_strategy())
    two = train(mirrored_strategy)
    # Same per-image samples (seeds of the global image index) and per-image loss
    # normalisation: only the order of float32 sums differs (each replica sums half
    # the batch, then the all-reduce adds the halves), ~1e-7 relative per step.
    for a, b in zip(one, two):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


@pytest.mark.large
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_and_predicts(policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = tiny_mask_rcnn()
        model.compile()
        x, y = synthetic_batch()
        history = model.fit(x, y, epochs=1, batch_size=2, verbose=0).history
        out = model.predict(x, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.backbone.compute_dtype == policy.split("_")[1]
    assert all(np.isfinite(history[t][0]) for t in TERMS)
    assert out["boxes"].dtype == np.float32 and out["masks"].dtype == np.float32
    assert np.all(out["num_detections"] >= 0)


def test_keras_round_trip_same_detections(model, tmp_path):
    x, _ = synthetic_batch(seed=5)
    expected = model.predict(x, verbose=0)
    path = tmp_path / "mask_rcnn.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert_outputs_close(expected, restored.predict(x, verbose=0), atol=SAME_GRAPH_ATOL)
    assert_config_matches_signature(restored, {"num_classes": NUM_CLASSES, "min_size": SIZE})


def test_roi_pool_ablation():
    model = tiny_mask_rcnn(**roi_poolers(use_roi_align=False))
    assert not model.box_roi_pool.use_roi_align and not model.mask_roi_pool.use_roi_align
    assert model.get_config()["box_roi_pool"]["config"]["use_roi_align"] is False
    x, y = synthetic_batch()
    assert all(np.isfinite(float(v)) for v in model.loss_terms(x, y).values())


@pytest.mark.large
def test_swapped_parts_round_trip_and_train(tmp_path):
    """RoIPool poolers, a 4-conv box head with batch normalisation and a stricter RoI
    matcher: the config holds exactly these parts, a .keras round trip rebuilds them
    with the same detections, and the detector trains two steps."""
    model = tiny_mask_rcnn(**roi_poolers(use_roi_align=False),
                           box_head=BoxHead(conv_filters=(8,) * 4, fc_units=(32,),
                                            norm_layer="batch"),
                           roi_matcher=Matcher(0.6, 0.4, allow_low_quality_matches=False))
    config = model.get_config()
    assert config["box_head"]["config"]["conv_filters"] == (8, 8, 8, 8)
    assert config["roi_matcher"]["config"] == {"fg_threshold": 0.6, "bg_threshold": 0.4,
                                               "allow_low_quality_matches": False}
    x, y = synthetic_batch()
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "swapped.keras")
    restored = keras.saving.load_model(tmp_path / "swapped.keras")
    for name in MaskRCNN.PARTS:
        assert type(getattr(restored, name)) is type(getattr(model, name)), name
        assert _json_config(getattr(restored, name)) == _json_config(getattr(model, name)), name
    assert restored.roi_matcher == Matcher(0.6, 0.4, allow_low_quality_matches=False)
    assert not restored.mask_roi_pool.use_roi_align and len(restored.box_head.convs) == 4
    assert_outputs_close(expected, restored.predict(x, verbose=0), atol=SAME_GRAPH_ATOL)
    restored.compile(optimizer=keras.optimizers.SGD(0.01))
    before = [w.numpy() for w in restored.box_head.trainable_weights]
    history = restored.fit(x, y, epochs=2, batch_size=2, verbose=0).history
    assert all(np.isfinite(history["loss"]))
    after = restored.box_head.trainable_weights
    assert all(np.abs(a.numpy() - b).max() > 0 for a, b in zip(after, before))


def _json_config(part):
    """A part's serialised config as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(keras.saving.serialize_keras_object(part)["config"]))


class _PositivesLast(BalancedSampler):
    """The balanced sample in reverse order: positives in the last columns."""

    def __call__(self, labels, seed):
        return super().__call__(labels, seed)[:, ::-1]


def test_mask_term_finds_positives_by_mask_not_column_order():
    x, y = synthetic_batch()
    model = tiny_mask_rcnn()
    first = model.loss_terms(x, y)
    last = model.replace(roi_sampler=_PositivesLast(32, 0.25)).loss_terms(x, y)
    assert float(first["mask_loss"]) > 0
    # The same sampled RoIs in another column order: the same terms, up to the order of
    # float32 sums (1e-6 relative).
    for name in TERMS:
        np.testing.assert_allclose(float(last[name]), float(first[name]), rtol=1e-5,
                                   err_msg=name)


def test_replaced_predictors_retarget_the_classes_sharing_every_other_part(model):
    tuned = model.replace(box_predictor=BoxPredictor(6), mask_predictor=MaskPredictor(6, 16))
    assert tuned.num_classes == 6 and type(tuned) is MaskRCNN
    assert tuned.backbone is model.backbone and tuned.mask_head is model.mask_head
    x, y = synthetic_batch()
    out = tuned.predict(x, verbose=0)
    assert out["masks"].shape == (2, 10, 28, 28)
    y = {**y, "classes": np.where(y["classes"] > 0, 5, 0)}
    assert all(np.isfinite(float(v)) for v in tuned.loss_terms(x, y).values())
    with pytest.raises(ValueError, match="agree on the number of classes"):
        model.replace(box_predictor=BoxPredictor(6))  # the mask predictor has 3
    with pytest.raises(ValueError, match="agree on the number of classes"):
        tiny_mask_rcnn(num_classes=4)  # the injected mask predictor has 3


def test_faster_rcnn_is_the_task_without_mask_parts(tmp_path):
    detector = tiny_mask_rcnn(task=FasterRCNN)
    assert not hasattr(detector, "mask_head") and "mask_loss" not in detector.LOSS_TERMS
    x, y = synthetic_batch()
    out = detector.predict(x, verbose=0)
    assert sorted(out) == ["boxes", "classes", "num_detections", "scores"]
    terms = detector.loss_terms(x, {"boxes": y["boxes"], "classes": y["classes"]})
    assert set(terms) == set(LOSS_TERMS) - {"mask_loss"}
    detector.save(tmp_path / "faster.keras")
    restored = keras.saving.load_model(tmp_path / "faster.keras")
    assert type(restored) is FasterRCNN
    assert_outputs_close(out, restored.predict(x, verbose=0), atol=SAME_GRAPH_ATOL)
    assert list(detector.export_variants()) == ["serving_default"]


def test_default_backbone_freezes_stem_conv2_and_batch_norm():
    backbone = FPNBackbone.from_variant("resnet18", channels=8)
    body = backbone.body
    assert not body.get_layer("conv1_conv").trainable
    assert not body.get_layer("conv2_block1").trainable
    assert body.get_layer("conv3_block1").trainable
    assert isinstance(body.get_layer("conv3_block1").bns[0], layers.FrozenBatchNormalization)
    trainable = {w.path.split("/")[0] for w in backbone.trainable_weights
                 if w.path.startswith("conv")}
    assert trainable == {f"conv{k}_block{j}" for k in (3, 4, 5) for j in (1, 2)}
    everything = FPNBackbone.from_variant("resnet18", channels=8, norm_layer="batch",
                                          freeze_at=0)
    assert len(everything.trainable_weights) > len(backbone.trainable_weights)
    assert_config_matches_signature(FPNBackbone.from_config(backbone.get_config()))


def test_pasted_masks_option():
    model = tiny_mask_rcnn(paste_masks=True)
    x, _ = synthetic_batch()
    out = model.predict(x[:, :48], verbose=0)
    assert out["pasted_masks"].shape == (2, 10, 48, SIZE) and out["pasted_masks"].dtype == bool


def test_export_variants_share_the_weights_and_predict_as_the_model(model):
    variants = model.export_variants()
    assert list(variants) == ["serving_default", "pasted_masks"]
    default, pasted = variants.values()
    assert tuple(default.inputs[0].shape) == (None, None, None, 3)
    own = {id(w) for w in model.weights}
    assert all(id(w) in own for v in variants.values() for w in v.weights)  # no copies
    x, _ = synthetic_batch()
    outputs = default(x.astype("float32"))
    assert sorted(outputs) == ["boxes", "classes", "masks", "num_detections", "scores"]
    assert_outputs_close(model(x), outputs, atol=SAME_GRAPH_ATOL)  # eager: no predict trace
    assert pasted(x[:, :48].astype("float32"))["pasted_masks"].shape == (2, 10, 48, SIZE)


def test_builtin_ops_variant_pools_with_gather_and_shares_the_heads(model):
    fixed, = model.export_variants(input_size=(48, SIZE), builtin_ops=True,
                                   signatures=["serving_default"]).values()
    assert tuple(fixed.inputs[0].shape) == (None, 48, SIZE, 3)
    detector = fixed.layers[-1]
    for name in ("backbone", "rpn_head", "box_head", "box_predictor", "mask_head",
                 "mask_predictor"):
        assert getattr(detector, name) is getattr(model, name), name
    for name in ("box_roi_pool", "mask_roi_pool"):
        copy, pooler = getattr(detector, name), getattr(model, name)
        assert copy is not pooler and copy.implementation == "gather"
        assert pooler.implementation == "crop_and_resize"
    x = synthetic_batch()[0][:, :48]
    # gather and crop_and_resize sample the same points: equal up to float32 rounding of
    # the bilinear sums; the detections are matched (near-tied scores of the untrained
    # heads may swap rows)
    match_detections({k: np.asarray(v) for k, v in model(x).items()},
                     {k: np.asarray(v) for k, v in fixed(x.astype("float32")).items()},
                     tolerance=SAME_GRAPH_ATOL, top=model.detections_per_image)
    with pytest.raises(ValueError, match=r"input_size` as \(height, width\)"):
        model.export_variants(input_size=(48,))
    with pytest.raises(ValueError, match="signatures among"):
        model.export_variants(signatures=["stochastic"])


def test_bad_arguments_and_inputs(model):
    with pytest.raises(ValueError, match="backbone to be one of"):
        MaskRCNN(backbone="vgg16_fpn")
    with pytest.raises(ValueError, match="one anchor size per pyramid level"):
        tiny_mask_rcnn(anchor_generator=AnchorGenerator((32, 64)))
    with pytest.raises(ValueError, match="anchor generator's 2 anchors per position"):
        tiny_mask_rcnn(anchor_generator=AnchorGenerator((8, 16, 32, 64, 128), (0.5, 2.0)),
                       rpn_head=models.mask_rcnn.RPNHead(3))
    x, y = synthetic_batch()
    with pytest.raises(ValueError, match="'boxes', 'classes', 'masks'"):
        model.loss_terms(x, {"boxes": y["boxes"], "classes": y["classes"]})
    with pytest.raises(ValueError, match=r"images of shape \[B, H, W, 3\]"):
        model(np.zeros((1, 32, 32, 1), np.uint8))
    with pytest.raises(ValueError, match="'images' and 'image_sizes'"):
        model({"pixels": x})
    assert models.MaskRCNN is MaskRCNN
