"""``--precision``: float32 says nothing; auto picks bfloat16 only for detectors and presets
and only on a CPU with AVX512_BF16 or AMX (this machine's, read for real), the Keras policy
for detectors and TensorFlow's oneDNN rewrite for classifiers; one line says which."""

import pytest

from keras_zoo.train import cpu, precision

pytestmark = pytest.mark.no_keras_state


def _mode(*args, **kwargs):
    lines = []
    return precision.inference_mode(*args, log=lines.append, **kwargs), lines


def test_float32_and_uncovered_models_stay_float32_silently():
    assert _mode("float32") == ("float32", [])
    assert _mode("auto", covered=False) == ("float32", [])


def test_auto_follows_the_cpu_and_the_kind_of_model():
    fast = cpu.has_fast_bfloat16()
    for detector, chosen in ((True, precision.POLICY), (False, precision.REWRITE)):
        mode, lines = _mode("auto", detector=detector)
        assert mode == (chosen if fast else "float32") and len(lines) == 1
        assert lines[0].startswith("keras-zoo: inference in ")
        assert cpu.describe() in lines[0]


def test_bfloat16_when_asked_and_bad_values():
    assert _mode("bfloat16", detector=False)[0] == precision.REWRITE
    mode, lines = _mode("bfloat16")
    assert mode == precision.POLICY and lines[0].startswith(
        "keras-zoo: inference in mixed_bfloat16 (--precision bfloat16")
    with pytest.raises(ValueError, match=r"Expected --precision in \('auto', 'float32', "
                                         r"'bfloat16'\). Received: 'half'"):
        precision.inference_mode("half")
