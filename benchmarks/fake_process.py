"""A local fake API (tests/fakes) in a process of its own, so its server threads never share the
benchmark's interpreter: started with the code that serves it, stopped on exit."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from onboard.core.paths import PROJECT_DIR


@contextmanager
def fake_process(code: str, name: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The process running `code` (which prints its base URL, then answers `report` on stdin) and
    that URL; killed on exit if still running."""
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the fake {name} did not start (said {url!r})")
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
