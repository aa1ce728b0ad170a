"""What `keras-zoo` costs before it does anything: `--help`, `models` and their help start
no TensorFlow, and TensorFlow's C++ start-up lines never reach the terminal (except when
the start-up fails)."""

import subprocess
import sys
import textwrap

import pytest

NATIVE_LINES = (b"WARNING: All log messages before absl::InitializeLog() is called are written "
                b"to STDERR\n"
                b"I0000 00:00:1796111841.196415   10220 port.cc:153] oneDNN custom operations "
                b"are on.\n"
                b"E0000 00:00:1796112246.111063   13819 cuda_platform.cc:52] failed call to "
                b"cuInit: INTERNAL: CUDA error\n")


def _python(code):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300)


def test_help_and_models_import_no_tensorflow():
    result = _python("""
        import sys
        from keras_zoo.train.cli import main

        for argv in (["--help"], ["models", "--help"], ["evaluate", "--help"], ["models"]):
            try:
                status = main(argv)
            except SystemExit as e:  # argparse after printing the help
                status = e.code
            assert status == 0, argv
        print(sorted(m for m in ("tensorflow", "keras", "keras_zoo.models") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert result.stderr == ""
    rows = [line.split() for line in result.stdout.splitlines()]  # columns sized to fit
    assert ["resnet1202", "19,421,274", "19,513,978", "cifar10", "resnet_cifar"] in rows
    assert ["resnet50", "25,557,032", "25,610,152", "images", "resnet_imagenet"] in rows


def test_quiet_startup_drops_only_tensorflows_lines():
    result = _python(f"""
        import os, sys
        from keras_zoo.train.tf_startup import quiet_startup

        with quiet_startup():
            os.write(2, {NATIVE_LINES!r})
            print("a Python warning during the import", file=sys.stderr)
        print("after", file=sys.stderr)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "a Python warning during the import\nafter\n"


def test_quiet_startup_shows_everything_when_the_start_up_fails():
    result = _python(f"""
        import os
        from keras_zoo.train.tf_startup import quiet_startup

        with quiet_startup():
            os.write(2, {NATIVE_LINES!r})
            raise ImportError("libcudart.so.12: cannot open shared object file")
    """)
    assert result.returncode == 1
    assert result.stderr.startswith(NATIVE_LINES.decode())
    assert result.stderr.rstrip().endswith("ImportError: libcudart.so.12: cannot open shared "
                                           "object file")


def test_tensorflow_starts_silently():
    result = _python("""
        import sys
        from keras_zoo.train.tf_startup import start_tensorflow

        start_tensorflow()
        assert "keras_zoo.layers" in sys.modules  # registered for keras.saving.load_model
    """)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_bad_command_line_is_one_line(capsys):
    from keras_zoo.train.cli import main

    for argv, message in ((["modles"], "keras-zoo: error: argument command: invalid choice: "
                                       "'modles'"),
                          (["models", "--bogus"], "keras-zoo: error: unrecognized arguments: "
                                                  "--bogus")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), lines
        assert lines[0].endswith("(see keras-zoo --help)")
