"""A built book served over local HTTP, as a reader's browser would load it (the browser tests, screenshots)."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder without a log line per request."""

    def log_message(self, *args):
        pass


@contextmanager
def served(folder: str | Path) -> Iterator[str]:
    """Serve ``folder`` on a free local port for the ``with`` block; yields its base URL (ending in ``/``)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def system_chromium() -> str | None:
    """Debian's Chromium, when installed (Playwright drives it; it cannot download its own browsers offline)."""
    return shutil.which("chromium") or shutil.which("chromium-browser")
