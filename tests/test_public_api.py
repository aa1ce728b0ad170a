"""Every public layer, model and part class of keras_zoo.layers / keras_zoo.models, built
with non-default values for every argument, returns exactly those arguments from
`get_config` and comes back from its serialised form (and a `.keras` file, for
models) with the same config (STYLE.md practice 3: the constructor arguments are the
config); and no task takes a setting of the parts it holds (a setting recorded by the
task but carried out by an injected part would be a config that lies)."""

import inspect
import json

import keras
import pytest

from keras_zoo import layers, models
from keras_zoo.models.mask_rcnn import (
    AnchorGenerator,
    BalancedSampler,
    BoxCoder,
    BoxHead,
    BoxPredictor,
    FeaturePyramid,
    FPNBackbone,
    MaskHead,
    MaskPredictor,
    Matcher,
    RPNHead,
)
from keras_zoo.models.mask_rcnn._config_object import ConfigObject
from tests.harness import assert_config_matches_signature


def _tiny_fpn():
    """An FPN backbone on a one-block-per-stage ResNet of 4 filters: cheap to build."""
    body = models.ResNetBackbone((1, 1, 1, 1), (4, 4, 4, 4), normalization="none",
                                 norm_layer="frozen", name="body")
    return FPNBackbone(body, FeaturePyramid(8, name="fpn"), name="backbone")


# Per public class, constructor arguments: across its entries every argument of
# `__init__` takes a non-default value at least once (some combinations exclude
# each other, e.g. ImageNormalization's mean with per_pixel_mean). A new public class
# needs an entry here (test_every_public_class_has_an_entry fails until it has one).
NON_DEFAULT = {
    "BasicBlock": [dict(filters=8, stride=2, preact=True, shortcut="zero_pad",
                        merge=layers.Swapout(0.9, 0.8, seed=1), bn_epsilon=1e-3,
                        bn_momentum=0.99, norm_layer="frozen", kernel_initializer="glorot_uniform",
                        kernel_regularizer=keras.regularizers.L2(1e-4))],
    "BottleneckBlock": [dict(filters=4, expansion=2, stride=2, stride_on="1x1", preact=True,
                             shortcut="none", merge=layers.StochasticDepth(0.2, seed=3),
                             bn_epsilon=1e-3, bn_momentum=0.99, norm_layer="sync",
                             kernel_initializer="he_uniform",
                             kernel_regularizer=keras.regularizers.L2(5e-4))],
    "FrozenBatchNormalization": [dict(axis=1, epsilon=1e-3, trainable_affine=True)],
    "ImageNormalization": [dict(mean=(1.0, 2.0, 3.0), std=(4.0, 5.0, 6.0), channel_order="bgr"),
                           dict(per_pixel_mean=True)],
    "MultiLevelRoIAlign": [dict(output_size=(3, 5), sampling_ratio=0, aligned=False,
                                canonical_level=3, canonical_size=112.0,
                                implementation="gather", use_roi_align=False, levels=(2, 3))],
    "RelaxedBernoulli": [dict(temperature=0.3, hard=True, inference_output="sigmoid", seed=4)],
    "RelaxedOneHotCategorical": [dict(temperature=0.7, hard=True, inference_output="softmax",
                                      seed=5)],
    "RoIAlign": [dict(output_size=(2, 3), spatial_scale=0.25, sampling_ratio=1, aligned=False,
                      implementation="gather", use_roi_align=False)],
    "StochasticDepth": [dict(rate=0.3, seed=6)],
    "Swapout": [dict(keep_x=0.6, keep_fx=0.7, seed=7)],
    "ResNetBackbone": [dict(stage_blocks=(1, 2), stage_filters=(4, 8), block="bottleneck",
                            stem="cifar", stem_filters=6, preact=True, shortcut="zero_pad",
                            stride_on="1x1", normalization="unit",
                            merges=[layers.Swapout(0.9, 0.8, seed=1), None, None],
                            norm_layer="frozen", freeze_at=1, bn_epsilon=1e-3, bn_momentum=0.99,
                            kernel_initializer="glorot_uniform",
                            kernel_regularizer=keras.regularizers.L2(1e-4),
                            input_shape=(16, 16, 3),
                            dtype=keras.dtype_policies.DTypePolicy("mixed_bfloat16"))],
    "ImageClassifier": [dict(backbone=models.ResNetBackbone.from_variant(
                                 "resnet20", input_shape=(8, 8, 3)),
                             num_classes=3, classifier_activation=None,
                             head_regularizer=keras.regularizers.L2(1e-3))],
    "FeaturePyramid": [dict(channels=8, extra_level=False, norm_layer="batch",
                            kernel_initializer=keras.initializers.HeUniform(seed=2))],
    "FPNBackbone": [dict(body=models.ResNetBackbone((1, 1, 1, 1), (4, 4, 4, 4),
                                                    normalization="none"),
                         fpn=FeaturePyramid(8, extra_level=False, name="fpn"))],
    "RPNHead": [dict(num_anchors=2, conv_depth=2,
                     kernel_initializer=keras.initializers.HeUniform(seed=1))],
    "BoxHead": [dict(conv_filters=(4, 4), fc_units=(8,), norm_layer="batch")],
    "BoxPredictor": [dict(num_classes=3)],
    "MaskHead": [dict(conv_filters=(8,), norm_layer="frozen")],
    "MaskPredictor": [dict(num_classes=3, upsample_filters=4)],
    "AnchorGenerator": [dict(sizes=(8, 16), aspect_ratios=(1.0,)),
                        dict(sizes=((8, 12), (16, 24)), aspect_ratios=(0.5, 2.0))],
    "Matcher": [dict(fg_threshold=0.6, bg_threshold=0.4, allow_low_quality_matches=False)],
    "BalancedSampler": [dict(num_samples=16, positive_fraction=0.3)],
    "BoxCoder": [dict(weights=(2.0, 2.0, 1.0, 1.0), scale_clamp=3.0)],
    "FasterRCNN": [dict(num_classes=3, backbone=_tiny_fpn(),
                        anchor_generator=AnchorGenerator((16, 32, 64, 128, 256), (0.5, 2.0)),
                        rpn_head=RPNHead(2, name="rpn_head"),
                        box_roi_pool=layers.MultiLevelRoIAlign(5, use_roi_align=False,
                                                               levels=(2, 3)),
                        box_head=BoxHead(fc_units=(8,)), box_predictor=BoxPredictor(3),
                        rpn_matcher=Matcher(0.6, 0.2), rpn_sampler=BalancedSampler(32, 0.25),
                        rpn_box_coder=BoxCoder((2.0, 2.0, 1.0, 1.0)),
                        roi_matcher=Matcher(0.55, 0.45, allow_low_quality_matches=False),
                        roi_sampler=BalancedSampler(16, 0.5),
                        roi_box_coder=BoxCoder((5.0, 5.0, 2.0, 2.0)), min_size=64,
                        max_size=96, pixel_mean=(1.0, 2.0, 3.0), pixel_std=(4.0, 5.0, 6.0),
                        rpn_pre_nms_top_n=(20, 10), rpn_post_nms_top_n=(20, 10),
                        rpn_nms_threshold=0.6, score_threshold=0.1, nms_threshold=0.4,
                        detections_per_image=5, detection_pre_nms_top_k=50, seed=3)],
    "MaskRCNN": [dict(num_classes=3, backbone=_tiny_fpn(),
                      mask_roi_pool=layers.MultiLevelRoIAlign(7, aligned=False, levels=(2, 3)),
                      mask_head=MaskHead(conv_filters=(8,)),
                      mask_predictor=MaskPredictor(3, upsample_filters=4), paste_masks=True)],
    # The search space travels serialized (the form get_config returns).
    "Controller": [dict(space=models.nas.spaces.serialize(models.nas.SearchSpace(2, (3, 5))),
                        units=8, num_lstm_layers=1, seed=9)],
    "RecurrentCell": [dict(architecture="nascell", units=3, use_bias=True,
                           kernel_initializer=keras.initializers.HeUniform(seed=1),
                           recurrent_initializer=keras.initializers.Orthogonal(seed=2),
                           bias_initializer=keras.initializers.Ones())],
    "LanguageModel": [dict(architecture="lstm", vocabulary_size=7, units=4, num_layers=1,
                           dropout=0.5, seed=3)],
    "ConcreteVAE": [dict(num_variables=3, num_categories=4, image_shape=(6, 6, 1),
                         hidden_units=(8,), temperature=0.5, kl="relaxed",
                         prior_temperature=0.4, straight_through=True, iw_samples=5, seed=8)],
}


def _is_public_class(value):
    """A layer, model or part class registered for serialisation by keras_zoo (abstract
    bases such as `models.LossTermsModel` are not registered: they take no arguments)."""
    return (inspect.isclass(value) and issubclass(value, (keras.layers.Layer, ConfigObject))
            and keras.saving.get_registered_name(value) == f"keras_zoo>{value.__name__}")


def _public_classes():
    """Layer, model and part classes exported by keras_zoo.layers, keras_zoo.models and the
    subpackages of keras_zoo.models (e.g. models.resnet)."""
    spaces = [layers, models] + [value for name, value in vars(models).items()
                                 if inspect.ismodule(value) and hasattr(value, "__path__")
                                 and not name.startswith("_")]
    found = {}
    for space in spaces:
        for name, value in vars(space).items():
            if _is_public_class(value) and not name.startswith("_"):
                found[name] = value
    return found


def _arguments(cls):
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def test_every_public_class_has_an_entry():
    classes = _public_classes()
    assert {"Swapout", "RoIAlign", "ConcreteVAE", "Matcher"} <= set(classes)  # the walk
    missing = sorted(set(classes) - set(NON_DEFAULT))
    assert not missing, f"add non-default constructor arguments for {missing} to NON_DEFAULT"
    assert not sorted(set(NON_DEFAULT) - set(classes)), "NON_DEFAULT names a class no more public"


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_config_is_the_constructor_arguments(name):
    cls = _public_classes()[name]
    arguments = _arguments(cls)
    covered = set()
    for kwargs in NON_DEFAULT[name]:
        unknown = set(kwargs) - set(arguments)
        assert not unknown, f"{name} takes no {sorted(unknown)}"
        covered |= {k for k, v in kwargs.items() if arguments[k].default is inspect.Parameter.empty
                    or not _same(v, arguments[k].default)}
        obj = cls(**kwargs)
        assert_config_matches_signature(obj, kwargs)
        # The config rebuilds an object with the same config, and so does the object's
        # serialised form (the form a .keras file holds).
        assert_config_matches_signature(cls.from_config(obj.get_config()), kwargs)
        restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
        assert type(restored) is cls and _json(restored.get_config()) == _json(obj.get_config())
    assert covered == set(arguments), f"{name}: give {sorted(set(arguments) - covered)} " \
                                      "a non-default value in NON_DEFAULT"


@pytest.mark.parametrize("name", [n for n in sorted(NON_DEFAULT) if n in (
    "ResNetBackbone", "ImageClassifier", "FPNBackbone", "FasterRCNN", "MaskRCNN")])
def test_models_come_back_from_a_keras_file_with_the_same_config(name, tmp_path):
    model = _public_classes()[name](**NON_DEFAULT[name][0])
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert type(restored) is type(model)
    assert _json(restored.get_config()) == _json(model.get_config())


# What every Keras layer takes: each object holds its own.
KERAS_ARGUMENTS = {"name", "trainable", "dtype", "autocast"}


def _parts(obj):
    """The constructor arguments of `obj` that hold parts (layers, models, assigners)."""
    parts = {}
    for name in _arguments(type(obj)):
        value = getattr(obj, name, None)
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, (keras.layers.Layer, ConfigObject)) for v in values):
            parts[name] = [v for v in values if v is not None]
    return parts


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_no_class_takes_a_setting_of_the_parts_it_holds(name):
    """A setting a task shares by name with a part it holds must be the part's value (the
    task's ``num_classes`` is its predictors'); otherwise the task's config would record a
    setting its injected part ignores (e.g. a detector's RoIAlign flag beside an injected
    head that pools otherwise)."""
    cls = _public_classes()[name]
    for kwargs in NON_DEFAULT[name]:
        obj = cls(**kwargs)
        config = obj.get_config()
        for part_name, parts in _parts(obj).items():
            for part in parts:
                shared = set(_arguments(type(obj))) & set(part.get_config()) - KERAS_ARGUMENTS
                for setting in shared - set(_parts(obj)):
                    assert _json(part.get_config()[setting]) == _json(config[setting]), (
                        f"{name}({setting}={config[setting]!r}) holds {part_name} with "
                        f"{setting}={part.get_config()[setting]!r}")


def _json(value):
    """`value` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def _same(value, default):
    return type(value) is type(default) and value == default


class DriftedModel(keras.Model):
    """A subclassed model whose get_config forgets its `units` argument."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = keras.layers.Dense(units)

    def call(self, x):
        return self.dense(x)

    def get_config(self):  # a hand-written config that drifted from __init__
        return {"name": self.name, "trainable": self.trainable}


def test_run_model_test_checks_the_config_of_subclassed_models(tmp_path):
    from tests.harness import run_model_test

    x = keras.ops.ones((2, 4))
    with pytest.raises(AssertionError, match=r"lacks __init__ args \['units'\]"):
        run_model_test(DriftedModel(), x, x, tmp_path, loss="mse")
