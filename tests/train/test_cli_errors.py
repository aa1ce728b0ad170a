"""`keras-zoo` on broken run directories, unwritable or full disks, Ctrl-C and missing
modules, run as a subprocess as a user would: one line on stderr (TensorFlow's start-up
log included in what is checked), exit 2 (130 for Ctrl-C), never a traceback."""

import ctypes
import errno
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import keras
import pytest

from keras_zoo.train import cli, cli_errors, models_command, run
from tests.train.run_helpers import TINY_TRAIN, write_tiny_mnist

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")


def _keras_zoo(*args, cwd, **kwargs):
    return subprocess.run([KERAS_ZOO, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=600, **kwargs)


def _one_line(result, status=2):
    """The exit status, and stderr is exactly one line (nothing from TensorFlow)."""
    assert result.returncode == status, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    return write_tiny_mnist(tmp_path_factory.mktemp("mnist"))


def _write_run(folder, mnist_dir, **changes):
    """A finished run directory as `keras-zoo train resnet20 --dataset mnist` leaves it,
    with a small stand-in checkpoint (a 28x28x1 -> 10 classifier); `changes` replace
    config fields (None deletes one)."""
    config = run.make_config("resnet20", dataset="mnist", data_dir=mnist_dir, epochs=1,
                             batch_size=16)[2]
    for key, value in changes.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    os.makedirs(folder / "checkpoints")
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "status.json").write_text(json.dumps({"state": "finished", "epochs": 1}))
    keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                      keras.layers.Dense(10, activation="softmax")]).save(
        folder / "checkpoints" / "last.keras")
    return folder


@pytest.mark.large
def test_config_missing_a_field(tmp_path, mnist_dir):
    run_dir = _write_run(tmp_path / "run", mnist_dir, dataset=None)
    for command in ("evaluate", "export"):  # the library would raise KeyError: 'dataset'
        args = (command, run_dir) + (("--format", "tflite", "--quantize", "int8")
                                     if command == "export" else ())
        line = _one_line(_keras_zoo(*args, cwd=tmp_path))
        assert line.startswith(f"keras-zoo {command}: error: Expected {run_dir / 'config.json'}")
        assert "Received: it lacks dataset;" in line


@pytest.mark.large
def test_truncated_json_files_are_named(tmp_path, mnist_dir):
    run_dir = _write_run(tmp_path / "run", mnist_dir)
    config = run_dir / "config.json"
    config.write_text(config.read_text()[:40])  # a write cut short (full disk, killed)
    line = _one_line(_keras_zoo("evaluate", run_dir, cwd=tmp_path))
    assert f"(JSON) in {config}. Received: an unreadable file" in line

    # `train --out` on an unfinished run of the same configuration whose status.json is cut
    # short (the library would print json's "Unterminated string ..." without the file).
    out = tmp_path / "unfinished"
    _write_run(out, mnist_dir)
    (out / "status.json").write_text('{"state": "runn')
    line = _one_line(_keras_zoo(*TINY_TRAIN, "--data-dir", mnist_dir, "--out", out,
                                cwd=tmp_path))
    assert f"(JSON) in {out / 'status.json'}. Received: an unreadable file" in line
    assert (out / "status.json").read_text() == '{"state": "runn'  # left as it was


@pytest.mark.large
def test_corrupt_checkpoint(tmp_path, mnist_dir):
    run_dir = _write_run(tmp_path / "run", mnist_dir)
    checkpoint = run_dir / "checkpoints" / "last.keras"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # truncated zip
    line = _one_line(_keras_zoo("evaluate", run_dir, cwd=tmp_path))
    assert line.startswith("keras-zoo evaluate: error: ") and str(checkpoint) in line


def _without_file_permission_override():
    """Run as root, a process ignores file modes (CAP_DAC_OVERRIDE): drop that
    capability from the bounding set, so the exec'd keras-zoo has it no more."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.large
def test_unwritable_out(tmp_path):
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = _keras_zoo("train", "--tiny", "--out", parent / "run", cwd=tmp_path,
                            preexec_fn=_without_file_permission_override if os.geteuid() == 0
                            else None)
    except subprocess.SubprocessError as error:  # prctl refused: no CAP_SETPCAP
        pytest.skip(f"root that cannot drop CAP_DAC_OVERRIDE writes anywhere: {error}")
    finally:
        parent.chmod(0o755)
    line = _one_line(result)
    assert line == (f"keras-zoo train: error: Permission denied: '{parent / 'run'}' (check its "
                    f"permissions, or choose another path)")


@pytest.mark.large
def test_full_disk(tmp_path):
    """A 64 KiB tmpfs filled up (a private mount namespace: `unshare`)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = textwrap.dedent(f"""
        mount -t tmpfs -o size=64k tmpfs {disk} || exit 99
        dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null
        exec {KERAS_ZOO} train --tiny --out {disk}/run
    """)
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux unshare to mount a small tmpfs")
    result = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", script],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600)
    if result.returncode == 99 or "unshare failed" in result.stderr:
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {result.stderr.strip()}")
    line = _one_line(result)
    assert line.startswith("keras-zoo train: error: No space left on device")
    assert line.endswith("(free some space, or write elsewhere)")


@pytest.mark.large
def test_ctrl_c_leaves_a_run_that_the_same_command_resumes(tmp_path, mnist_dir):
    out = tmp_path / "run"
    args = [*TINY_TRAIN[:-4], "--epochs", "10", *TINY_TRAIN[-2:], "--data-dir", mnist_dir,
            "--out", out]
    proc = subprocess.Popen([KERAS_ZOO, *map(str, args)], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    # Interrupt once the first epoch is logged, so the backup holds epoch 1.
    while not (out / "log.csv").exists() or len((out / "log.csv").read_text().splitlines()) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert stderr.splitlines() == [
        f"keras-zoo train: interrupted: run the same command to resume the run in {out}"]

    resumed = _keras_zoo(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming {out} at epoch " in resumed.stdout and resumed.stderr == ""
    assert json.loads((out / "status.json").read_text())["state"] == "finished"


def _blocking(tmp_path, *modules):
    """An environment in which importing `modules` fails as if they were not installed."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(f"""
        import sys

        class _NotInstalled:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {modules!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, _NotInstalled())
    """))
    return dict(os.environ, PYTHONPATH=str(site))


@pytest.mark.large
def test_missing_optional_extra_is_named(tmp_path, mnist_dir):
    run_dir = _write_run(tmp_path / "run", mnist_dir)
    env = _blocking(tmp_path, "onnx", "onnxruntime", "tf2onnx")
    line = _one_line(_keras_zoo("export", run_dir, "--format", "onnx", cwd=tmp_path, env=env))
    assert line.startswith("keras-zoo export: error: ") and "'onnx' extra" in line


@pytest.mark.large
def test_missing_dependency_is_named_plainly(tmp_path):
    env = _blocking(tmp_path, "sklearn")  # the quick-start's digits come from scikit-learn
    line = _one_line(_keras_zoo("train", "--tiny", "--out", tmp_path / "run", cwd=tmp_path,
                                env=env))
    assert line == ("keras-zoo train: error: Expected the Python module 'sklearn', a "
                    "dependency of keras-zoo. Received: it is not installed; reinstall keras_zoo "
                    "(pip install keras_zoo) or install it")


@pytest.mark.large
def test_task_index_needs_workers(tmp_path):
    line = _one_line(_keras_zoo("train", "--tiny", "--task-index", "1", "--out", tmp_path / "r",
                                cwd=tmp_path))
    assert "Expected --task-index only with --workers" in line
    assert not (tmp_path / "r").exists()


def test_os_errors_name_the_file_and_what_to_do():
    full = OSError(errno.ENOSPC, "No space left on device", "/runs/r/config.json.tmp")
    assert cli_errors.describe(full) == (2, "error: No space left on device: "
                                            "'/runs/r/config.json.tmp' (free some space, or "
                                            "write elsewhere)")
    refused = FileNotFoundError("Expected RUN_DIR to be a keras-zoo run directory")
    assert cli_errors.describe(refused) == (2, f"error: {refused}")


def test_missing_modules():
    status, line = cli_errors.describe(ModuleNotFoundError("No module named 'tf2onnx'",
                                                           name="tf2onnx"))
    assert status == 2 and "the 'onnx' extra" in line and "pip install 'keras_zoo[onnx]'" in line
    status, line = cli_errors.describe(ModuleNotFoundError("No module named 'PIL'", name="PIL"))
    assert status == 2 and "Expected the Python module 'PIL'" in line and "extra" not in line
    # A module of keras_zoo itself missing is a broken package: a bug, not the user's.
    assert cli_errors.describe(ModuleNotFoundError(name="keras_zoo.train.nas"))[0] == 1


def test_extras_table_matches_setup_py():
    """Every package of an extra (setup.py's extras_require, read back from the installed
    metadata) has an import name in EXTRAS that names that extra, and no other entries."""
    extras = {}
    for requirement in importlib.metadata.requires("keras_zoo"):
        name, _, marker = requirement.partition(";")
        if "extra ==" in marker and "test" not in marker:
            extra = marker.split("==")[1].strip().strip("'\"")
            extras.setdefault(extra, set()).add(re.split(r"[<>=\[ ]", name.strip())[0])
    imports = importlib.metadata.packages_distributions()
    for extra, distributions in extras.items():
        for distribution in distributions:
            assert any(cli_errors.EXTRAS.get(module) == extra and distribution in dists
                       for module, dists in imports.items()), (extra, distribution)
    for module, extra in cli_errors.EXTRAS.items():
        assert set(imports[module]) & extras[extra], module


def test_unexpected_errors_are_one_line_unless_debugging(monkeypatch, capsys):
    def broken(args):
        raise KeyError("dataset")

    monkeypatch.setattr(models_command, "command", broken)
    assert cli.main(["models"]) == 1
    assert capsys.readouterr().err == (
        "keras-zoo models: internal error: KeyError: 'dataset' (a bug in keras-zoo; set "
        "KERAS_ZOO_DEBUG=1 to see the traceback)\n")
    monkeypatch.setenv("KERAS_ZOO_DEBUG", "1")
    with pytest.raises(KeyError):
        cli.main(["models"])
