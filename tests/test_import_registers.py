"""After ``import keras_zoo`` every keras_zoo class deserialises (as after ``import
keras_hub``), whether Keras was imported before keras_zoo or after it (the import hook of
`keras_zoo/__init__.py`), while importing keras_zoo alone starts no Keras."""

import subprocess
import sys
import textwrap

import pytest

from keras_zoo import models

ORDERS = {"keras first": "import keras\nimport keras_zoo",
          # TensorFlow's import asks importlib for keras' spec without loading it
          "keras after keras_zoo": "import keras_zoo\nimport tensorflow\nimport keras"}


def _python(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.keras"
    body = models.ResNetBackbone((1, 1), (4, 8), stem="cifar", name="body")
    models.ImageClassifier(body, 3).save(path)
    return path


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_load_model_finds_keras_zoo_classes(order, saved):
    result = _python(f"""
        {ORDERS[order].replace(chr(10), chr(10) + ' ' * 8)}
        model = keras.saving.load_model({str(saved)!r})
        print(type(model).__name__, type(model.backbone).__name__)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ImageClassifier", "ResNetBackbone"]


def test_importing_keras_zoo_alone_imports_no_keras():
    result = _python("""
        import sys
        import keras_zoo
        print(sorted(m for m in ("keras", "tensorflow", "keras_zoo.models") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
