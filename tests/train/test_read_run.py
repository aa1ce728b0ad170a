"""Reading a run back (`keras-zoo evaluate`, `keras-zoo export`): a missing field,
unreadable JSON or a corrupt checkpoint is a ValueError/FileNotFoundError naming the
file and what to do, from one function for both commands (`run_dir`)."""

import json

import keras
import pytest

from keras_zoo.train import export_command, run, run_dir


def _run(tmp_path, config=None):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    config = config or run.make_config("resnet20", dataset="mnist", data_dir="/data")[2]
    (out / "config.json").write_text(json.dumps(config))
    return out


def _tiny_keras_file(path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(path)
    return path.read_bytes()


COMMANDS = {
    "evaluate": lambda out: run.evaluate(str(out)),
    "export": lambda out: export_command.export_run(str(out), format="saved_model"),
}


@pytest.mark.parametrize("command, lacks", [
    (COMMANDS["evaluate"], "batch_size, dataset"),  # evaluate reads every field
    # export reads only the dataset, to calibrate int8
    (lambda out: export_command.export_run(str(out), format="tflite", quantize="int8"),
     "dataset")])
def test_config_lacking_a_field(tmp_path, command, lacks):
    config = run.make_config("resnet20", dataset="mnist", data_dir="/data")[2]
    del config["dataset"], config["batch_size"]
    out = _run(tmp_path, config)
    with pytest.raises(ValueError, match=f"Expected {out / 'config.json'} to hold every field "
                       f"of a 'resnet_cifar' run. Received: it lacks {lacks}; restore the file"):
        command(out)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("text", ['{"model": "resnet20", "rec', "", '["a list"]'])
def test_unreadable_config(tmp_path, command, text):
    out = _run(tmp_path)
    (out / "config.json").write_text(text)
    with pytest.raises(ValueError, match=f"{out / 'config.json'}.*train the run again"):
        COMMANDS[command](out)


def test_config_without_a_recipe(tmp_path):
    """Read as a classifier's: enough to export its checkpoint, not to evaluate it."""
    out = _run(tmp_path, {"model": "resnet20"})
    with pytest.raises(ValueError, match="of a 'quickstart' run. Received: it lacks "
                       "batch_size, data_dir, dataset, decay_at"):
        run_dir.read_config(str(out))
    config, recipe = run_dir.read_config(str(out), fields=())
    assert recipe.name == "quickstart" and config == {"model": "resnet20"}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_checkpoint(tmp_path, command, damage):
    out = _run(tmp_path)
    whole = _tiny_keras_file(tmp_path / "model.keras")
    data = {"garbage": b"not a zip file", "truncated": whole[:len(whole) // 2],
            "empty": b""}[damage]
    (out / "checkpoints" / "last.keras").write_bytes(data)
    with pytest.raises(ValueError, match=f"Expected a Keras checkpoint at "
                       f"{out / 'checkpoints' / 'last.keras'}. Received: a file that does not "
                       f"load .*try --checkpoint best or train the run again"):
        COMMANDS[command](out)


def test_missing_run_and_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="Expected RUN_DIR to be a keras-zoo run"):
        run.evaluate(str(tmp_path / "none"))
    out = _run(tmp_path)
    with pytest.raises(FileNotFoundError, match="Expected a checkpoint at .*best.keras"):
        run.evaluate(str(out), checkpoint="best")
    with pytest.raises(ValueError, match="Expected checkpoint 'last' or 'best'"):
        run_dir.load_checkpoint(str(out), "first")
