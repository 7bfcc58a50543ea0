"""One runner per results folder (issue 32): tested with real processes, the way two runners would meet."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mnistlib.study.lock import FolderLocked, holder, results_lock

HOLD = """
import sys, time
from mnistlib.study.lock import results_lock
with results_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(folder, seconds: float) -> subprocess.Popen:
    """A process that takes the lock of ``folder`` and keeps it ``seconds``; returns once it holds it."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_runner_stops_at_once_naming_the_holder(tmp_path):
    first = hold(tmp_path, 60)
    try:
        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "mnistlib", "ablate", "--profile", "smoke", "--out",
                                 str(tmp_path)], capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert f"process {first.pid}" in second.stderr and "--wait" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1  # one line, no traceback
        assert time.monotonic() - started < 60  # it did not wait for the holder
        with pytest.raises(FolderLocked, match=str(first.pid)):
            with results_lock(tmp_path):
                pass
    finally:
        first.kill()
        first.wait()


def test_a_killed_runners_lock_is_taken_over(tmp_path):
    first = hold(tmp_path, 60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert holder(tmp_path)["pid"] == first.pid  # the file still names the dead runner ...
    with results_lock(tmp_path):  # ... but its lock died with it
        assert holder(tmp_path)["pid"] == os.getpid()


def test_wait_blocks_until_the_holder_finishes(tmp_path):
    first = hold(tmp_path, 1.5)
    started = time.monotonic()
    try:
        with results_lock(tmp_path, wait=True, poll_seconds=0.1):
            waited = time.monotonic() - started
            assert holder(tmp_path)["pid"] == os.getpid()
    finally:
        first.wait()
    assert waited > 1.0  # it waited for the holder's 1.5 s instead of stopping or taking the lock early
