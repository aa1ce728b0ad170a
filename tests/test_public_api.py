"""Every public layer and model class of keras_zoo.layers / keras_zoo.models, built
with non-default values for every argument, returns exactly those arguments from
`get_config` (STYLE.md practice 3: the constructor arguments are the config)."""

import inspect

import keras
import pytest

from keras_zoo import layers, models
from tests.harness import assert_config_matches_signature

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
                                implementation="gather", use_roi_align=False)],
    "RelaxedBernoulli": [dict(temperature=0.3, hard=True, inference_output="sigmoid", seed=4)],
    "RelaxedOneHotCategorical": [dict(temperature=0.7, hard=True, inference_output="softmax",
                                      seed=5)],
    "RoIAlign": [dict(output_size=(2, 3), spatial_scale=0.25, sampling_ratio=1, aligned=False,
                      implementation="gather", use_roi_align=False)],
    "StochasticDepth": [dict(rate=0.3, seed=6)],
    "Swapout": [dict(keep_x=0.6, keep_fx=0.7, seed=7)],
    "BoxHead": [dict(num_classes=3, pool_size=5, fc_units=(16, 8), sampling_ratio=1,
                     aligned=False, use_roi_align=False, levels=(3, 4), implementation="gather")],
    "MaskHead": [dict(num_classes=3, pool_size=7, conv_filters=(8,), upsample_filters=4,
                      sampling_ratio=0, aligned=False, use_roi_align=False, levels=(2, 3),
                      implementation="gather")],
    "RPNHead": [dict(num_anchors=2, kernel_initializer=keras.initializers.HeUniform(seed=1))],
    "FeaturePyramid": [dict(channels=8, extra_level=False,
                            kernel_initializer=keras.initializers.HeUniform(seed=2))],
    "FPNBackbone": [dict(body="resnet18", channels=8, norm_layer="batch", freeze_at=0)],
    "MaskRCNN": [dict(num_classes=3, backbone=models.mask_rcnn.FPNBackbone("resnet18", channels=8),
                      rpn_head=models.mask_rcnn.RPNHead(num_anchors=2),
                      box_head=models.mask_rcnn.BoxHead(3, fc_units=(8, 8)),
                      mask_head=models.mask_rcnn.MaskHead(3, conv_filters=(8,),
                                                          upsample_filters=4),
                      min_size=64, max_size=96, pixel_mean=(1.0, 2.0, 3.0),
                      pixel_std=(4.0, 5.0, 6.0), anchor_sizes=(16, 32, 64, 128, 256),
                      aspect_ratios=(0.5, 2.0), rpn_pre_nms_top_n=(20, 10),
                      rpn_post_nms_top_n=(20, 10), rpn_nms_threshold=0.6, rpn_num_samples=32,
                      rpn_positive_fraction=0.25, roi_num_samples=16, roi_positive_fraction=0.5,
                      score_threshold=0.1, nms_threshold=0.4, detections_per_image=5,
                      detection_pre_nms_top_k=50, use_roi_align=False, aligned=False,
                      paste_masks=True, seed=3)],
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


def _public_classes():
    """Layer and model classes exported by keras_zoo.layers, keras_zoo.models and the
    subpackages of keras_zoo.models (e.g. models.resnet)."""
    spaces = [layers, models] + [value for name, value in vars(models).items()
                                 if inspect.ismodule(value) and hasattr(value, "__path__")
                                 and not name.startswith("_")]
    found = {}
    for space in spaces:
        for name, value in vars(space).items():
            if (inspect.isclass(value) and issubclass(value, keras.layers.Layer)
                    and value.__module__.startswith("keras_zoo.") and not name.startswith("_")):
                found[name] = value
    return found


def _arguments(cls):
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}


def test_every_public_class_has_an_entry():
    classes = _public_classes()
    assert {"Swapout", "RoIAlign", "ConcreteVAE"} <= set(classes)  # the walk finds them
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
        # The config rebuilds an object with the same config.
        assert_config_matches_signature(cls.from_config(obj.get_config()), kwargs)
    assert covered == set(arguments), f"{name}: give {sorted(set(arguments) - covered)} " \
                                      "a non-default value in NON_DEFAULT"


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
