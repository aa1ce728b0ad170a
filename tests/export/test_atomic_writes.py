"""export._common.atomic_path: a replaced artifact is never lost and nothing is left
beside it, also when a rename fails halfway (the failure is forced)."""

import os

import pytest

from keras_zoo.export import _common

pytestmark = pytest.mark.no_keras_state  # files only: see tests/conftest.py


def _write_version(path, text):
    os.makedirs(path)
    with open(os.path.join(path, "saved_model.pb"), "w") as f:
        f.write(text)


def _read_version(path):
    with open(os.path.join(path, "saved_model.pb")) as f:
        return f.read()


def test_overwrite_replaces_a_directory(tmp_path):
    final = tmp_path / "1"
    _write_version(final, "old")
    with _common.atomic_path(final, overwrite=True) as tmp:
        _write_version(tmp, "new")
    assert _read_version(final) == "new"
    assert os.listdir(tmp_path) == ["1"]


@pytest.mark.parametrize("failing_call", [1, 2])  # moving the old one aside, the new one in
def test_a_failed_rename_keeps_the_old_directory_and_leaves_no_debris(
        tmp_path, monkeypatch, failing_call):
    final = tmp_path / "1"
    _write_version(final, "old")
    calls, rename = [], os.rename

    def flaky_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == failing_call:
            raise OSError(28, "No space left on device (forced)")
        rename(src, dst)

    monkeypatch.setattr(_common.os, "rename", flaky_rename)
    with pytest.raises(OSError, match="forced"):
        with _common.atomic_path(final, overwrite=True) as tmp:
            _write_version(tmp, "new")
    assert _read_version(final) == "old"
    assert os.listdir(tmp_path) == ["1"], "no .tmp-* or .old-* folder may be left"


def test_a_file_replaces_a_file_and_a_failed_block_leaves_nothing(tmp_path):
    final = tmp_path / "m.tflite"
    final.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with _common.atomic_path(final, overwrite=True) as tmp:
            open(tmp, "wb").write(b"half")
            raise RuntimeError("conversion failed")
    assert final.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.tflite"]
    with _common.atomic_path(final, overwrite=True) as tmp:
        open(tmp, "wb").write(b"new")
    assert final.read_bytes() == b"new" and os.listdir(tmp_path) == ["m.tflite"]
