"""The Mask R-CNN recipe on COCO-format files given one by one (category ids with gaps and a
large id, a crowd region, an image without objects): the category map a run stores, COCO
results written back with the dataset's ids, the split evaluated; ``--init torchvision``
loading torchvision's weights with new class layers (in a subprocess: torch comes second,
as in ``keras-zoo train``)."""

import json
import pathlib
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_zoo.train import recipes, registry, run
from tests.train.coco_files import classify_everything_as, tiny_coco

ROOT = str(pathlib.Path(__file__).parents[2])  # the repository: `tests` imports from there


@pytest.fixture()
def coco(tmp_path):
    files = {split: list(tiny_coco(tmp_path / "data", split)) for split in ("train", "val")}
    config = run.make_config("mask-rcnn-tiny", dataset="coco", tiny=True,
                             overrides={"data_files": files})[2]
    recipe = recipes.get(config["recipe"])
    data = recipe.load_data(config)
    config.update(recipe.config_from_data(data))
    return recipe, data, config


def test_category_map_and_evaluated_split(coco):
    recipe, data, config = coco
    assert config["categories"] == [{"index": 1, "id": 3, "name": "car"},
                                    {"index": 2, "id": 90, "name": "toothbrush"},
                                    {"index": 3, "id": 1000, "name": "widget"}]
    assert recipe.evaluated_split(data) == "val"  # no test split
    with pytest.raises(ValueError, match=r"Expected a split of the coco dataset: train, val"):
        recipe.evaluated_split(data, "test")
    stored = recipe.load_data(config)  # as `keras-zoo evaluate` reads a run back
    assert stored.categories == data.categories


def test_results_carry_the_datasets_category_ids(coco, tmp_path):
    recipe, data, config = coco
    model = recipe.build_model(registry.get("mask-rcnn-tiny").builder, data, config)
    assert model.num_classes == 4
    classify_everything_as(model, 2)  # index 2: the toothbrush, category id 90
    metrics = recipe.evaluate(model, data, config, split="val", out=str(tmp_path))
    assert sorted(metrics)[:2] == ["bbox_AP", "bbox_AP50"] and len(metrics) == 24
    folder = tmp_path / "evaluation" / "val"
    results = json.loads((folder / "results.json").read_text())
    assert results and {r["category_id"] for r in results} == {90}
    assert {r["image_id"] for r in results} == {1, 2, 3, 4}
    assert json.loads((folder / "metrics.json").read_text()) == pytest.approx(metrics)
    assert (folder / "coco_eval.txt").read_text().splitlines()[0] == "COCO val: bbox"


_SAVE = "import torch; torch.manual_seed(0); from torchvision.models.detection import " \
        "maskrcnn_resnet50_fpn as m; torch.save(m(weights=None, weights_backbone=None)" \
        ".state_dict(), {path!r})"
_LOAD = textwrap.dedent("""
    import types
    import numpy as np
    from keras_zoo.train import recipes, registry, run
    from keras_zoo.train.datasets import CocoCategories
    from tests.train.coco_files import CATEGORIES
    config = run.make_config("mask-rcnn", overrides={{"init": ["torchvision", {path!r}]}})[2]
    data = types.SimpleNamespace(categories=CocoCategories.from_coco(CATEGORIES))
    model = recipes.get("mask_rcnn").build_model(registry.get("mask-rcnn").builder, data,
                                                 config)
    import torch  # after TensorFlow, as in `keras-zoo train --init`
    state = torch.load({path!r}, weights_only=True)
    ours = model.backbone.body.get_layer("conv1_conv").get_weights()[0]
    assert np.array_equal(ours, state["backbone.body.conv1.weight"].numpy().transpose(2, 3, 1, 0))
    print(model.num_classes, tuple(model.box_predictor.classifier.kernel.shape),
          model.box_roi_pool.aligned, model.mask_roi_pool.aligned)
""")


@pytest.mark.large
def test_init_torchvision_replaces_the_class_layers(tmp_path):
    path = str(tmp_path / "maskrcnn.pth")
    subprocess.run([sys.executable, "-c", _SAVE.format(path=path)], check=True, timeout=300)
    loaded = subprocess.run([sys.executable, "-c", _LOAD.format(path=path)], capture_output=True,
                            text=True, timeout=600, cwd=ROOT)
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    # torchvision's aligned=False in both poolers
    assert loaded.stdout.split("\n")[-2] == "4 (1024, 4) False False"


def test_from_scratch_backbone_trains_every_stage(coco):
    _, data, _ = coco
    config = {**run.make_config("mask-rcnn-r101", dataset="coco")[2],
              "categories": data.categories.to_json()}
    recipe = recipes.get(config["recipe"])
    with keras.StatelessScope():  # shapes only: no initial values drawn
        model = recipe.build_model(registry.get("mask-rcnn-r101").builder, data, config)
    assert model.num_classes == 4 and model.backbone.body.name == "resnet101_body"
    body = model.backbone.body
    assert all(layer.trainable for layer in body.layers)  # freeze_at 0
    assert type(body.get_layer("conv1_bn")).__name__ == "BatchNormalization"
