"""One process per directory (`train.directory_lock`): a second process is refused with
one line naming the holder and writes nothing; a process killed with -9 leaves no lock
behind; the CLI commands take the lock before they write."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from keras_zoo.train import directory_lock
from tests.train.run_helpers import TINY_TRAIN, cli_stderr_lines, keras_zoo, write_tiny_mnist

pytestmark = pytest.mark.no_keras_state

HOLD = textwrap.dedent("""
    import sys, time
    from keras_zoo.train.directory_lock import lock_directory
    lock_directory(sys.argv[1])
    print("locked", flush=True)
    time.sleep(600)
""")


@pytest.fixture
def holder(tmp_path):
    """Starts another process that locks a directory; yields ``(directory, process)``;
    kills it at the end."""
    directory = tmp_path / "held"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield directory, process
    process.kill()
    process.wait(timeout=30)


def test_a_second_process_is_refused_with_the_holder(holder):
    directory, process = holder
    with pytest.raises(directory_lock.DirectoryInUse) as error:
        directory_lock.lock_directory(directory, what="--out")
    message = str(error.value)
    assert message.startswith(f"Expected --out {str(directory)!r} to be free. Received: it is "
                              f"in use by process {process.pid} on ")
    assert " since 20" in message and "(-c " in message  # start time, command line
    assert os.listdir(directory) == [directory_lock.LOCK_NAME]  # nothing else written


def test_a_killed_holder_leaves_no_lock(holder):
    directory, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    directory_lock.lock_directory(directory)  # the OS dropped the lock with the process
    directory_lock.lock_directory(directory)  # this process holds it already: a no-op
    directory_lock.unlock_directory(directory)


@pytest.mark.large
def test_a_second_search_in_one_directory_is_refused(holder, tmp_path):
    """The issue's case: `keras-zoo search ... --out cs` while another process works there
    exits 2 with one line and writes nothing (before: both ran, every trial twice)."""
    directory, process = holder
    result = keras_zoo("search", "--dataset", "digits", "--trials", "2", "--out", directory,
                       cwd=tmp_path)
    lines = cli_stderr_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert f"in use by process {process.pid}" in lines[0], lines
    assert sorted(os.listdir(directory)) == [directory_lock.LOCK_NAME]


@pytest.mark.large
def test_a_second_train_in_one_run_directory_is_refused(holder, tmp_path):
    """The issue's case: `keras-zoo train ... --out ct` while another process trains there
    exits 2 with one line and writes nothing (before: both ran, every log row twice)."""
    directory, process = holder
    mnist = write_tiny_mnist(tmp_path / "mnist")
    result = keras_zoo(*TINY_TRAIN, "--data-dir", mnist, "--out", directory, cwd=tmp_path)
    lines = cli_stderr_lines(result.stderr)
    assert result.returncode == 2 and len(lines) == 1, result.stderr[-2000:]
    assert f"Expected the run directory {str(directory)!r} to be free" in lines[0], lines
    assert f"in use by process {process.pid}" in lines[0], lines
    assert sorted(os.listdir(directory)) == [directory_lock.LOCK_NAME]

