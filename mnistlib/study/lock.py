"""One runner per results folder: a lock that a second ``reproduce`` or ``ablate`` on the same folder meets.

Two runners pointed at one folder would train the same run twice and interleave their writes. The lock is
``<folder>/.lock``, held with ``fcntl.flock`` for the runner's lifetime: the kernel releases it when the
process ends, however it ends, so a lock left by a killed runner is simply taken over by the next one. The
file names its holder (pid, host, command, start time), so that a refused runner can say who holds it.

    with results_lock(folder):              # a second runner exits at once, naming the holder
        ...
    with results_lock(folder, wait=True):   # or waits for the holder to finish
        ...
"""
from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

LOCK_NAME = ".lock"


class FolderLocked(RuntimeError):
    """Another live process holds the folder's lock."""


def holder(folder: str | Path) -> dict | None:
    """What the lock file of ``folder`` says about its (last) holder, or ``None`` when there is none."""
    try:
        return json.loads((Path(folder) / LOCK_NAME).read_text() or "null")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _describe(info: dict | None) -> str:
    if not info:
        return "another process"
    return (f"process {info.get('pid')} on {info.get('host')} (`{info.get('command')}`, "
            f"since {info.get('started', '?')[:19]})")


@contextmanager
def results_lock(folder: str | Path, *, wait: bool = False, poll_seconds: float = 2.0) -> Iterator[Path]:
    """Hold ``<folder>/.lock`` for the duration of the ``with`` block.

    Held by another live process: raise :class:`FolderLocked` naming it, or with ``wait`` poll until it is
    free. A lock whose process died is free (the kernel dropped it) and is taken over. Where ``fcntl`` does not
    exist (Windows), the block runs unguarded.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on the platforms the course runs on
        yield Path(folder) / LOCK_NAME
        return
    path = Path(folder) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    raise FolderLocked(
                        f"{folder} is in use by {_describe(holder(folder))}: wait for it to finish, stop it, "
                        "or rerun with --wait") from None
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                                 "started": datetime.now(timezone.utc).isoformat()}))
        handle.flush()
        yield path
    finally:
        handle.close()  # releases the flock; the file stays, naming the last holder
