"""How a benchmark step is measured and where its table goes.

Every step runs as its own process and is measured with os.wait4, whose rusage covers the
process and the children it waited for (dbt included). A forked child starts with its
parent's memory high-water mark, so a benchmark process must stay small: whatever loads
data runs in a short-lived child too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from onboard.core.paths import PROJECT_DIR

#: the `onboard` CLI of the running interpreter's venv, run as a user would run it
ONBOARD = str(Path(sys.executable).parent / "onboard")


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants now, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21])  # resident pages
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def run_measured(args: list[str], env: dict[str, str], log_file: Path | None = None) -> tuple[float, float]:
    """Run a command; its wall seconds and peak RSS in MB.

    The peak is the larger of the process's and its waited-for children's high-water mark
    (os.wait4) and the process tree's resident memory sampled every half second: a JVM
    that Spark starts is killed, not waited for, when its parent exits, so only the
    samples see it. With log_file, the command's output goes there and its tail is in the
    error on failure.
    """
    with log_file.open("w") if log_file else open(os.devnull, "w") as output:
        started = time.perf_counter()
        stderr = subprocess.STDOUT if log_file else None
        process = subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=output, stderr=stderr)
        sampled = 0.0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            sampled = max(sampled, _tree_rss_mb(process.pid))
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    code = process.returncode = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = f":\n{log_file.read_text()[-3000:]}" if log_file else ""
        raise RuntimeError(f"{' '.join(args[:4])} exited with {code}{tail}")
    return seconds, max(usage.ru_maxrss / 1024, sampled)


def write_section(path: Path, table: str, section: str = "bench") -> None:
    """Replace the text between the section's markers in path (or append them) with table."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{table}{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
