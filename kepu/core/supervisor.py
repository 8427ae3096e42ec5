"""Supervise the background worker (``kepu worker``); no Django needed here.

:func:`supervise` runs the worker as a child process and restarts it with exponential
backoff whenever it exits non-zero (a crash, or the worker's own exit on a fatal database
error); a clean exit, or SIGTERM/SIGINT to the supervisor (forwarded to the child), ends
supervision.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any


def supervise(
    command: Sequence[str],
    *,
    backoff_start: float = 1.0,
    backoff_max: float = 60.0,
    healthy_after: float = 60.0,
    max_restarts: int | None = None,
    log: Any = None,
) -> int:
    """Run ``command``; restart it with backoff while it exits non-zero.

    The backoff doubles on each quick failure and starts over once a child has run for
    ``healthy_after`` seconds.  Returns the last exit code (0 after a clean exit or a
    signal to the supervisor).  ``max_restarts`` bounds restarts (tests).
    """
    out = log or sys.stderr
    stopping = False
    child: subprocess.Popen | None = None

    def forward(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    delay = backoff_start
    restarts = 0
    code = 0
    try:
        while True:
            started = time.monotonic()
            child = subprocess.Popen(list(command))
            code = child.wait()
            if stopping or code == 0:
                return 0 if stopping else code
            ran = time.monotonic() - started
            if ran >= healthy_after:
                delay = backoff_start
            if max_restarts is not None and restarts >= max_restarts:
                print(f"后台任务进程退出 (代码 {code}), 已达重启上限。", file=out, flush=True)
                return code
            restarts += 1
            print(
                f"后台任务进程异常退出 (代码 {code}), {delay:.0f} 秒后第 {restarts} 次重启。",
                file=out,
                flush=True,
            )
            deadline = time.monotonic() + delay
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.2, delay))
            if stopping:
                return 0
            delay = min(backoff_max, delay * 2)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def worker_command(args: Sequence[str]) -> list[str]:
    """The child command the supervisor runs: ``kepu manage kepu_worker ARGS``."""
    return [sys.executable, "-m", "kepu.cli", "manage", "kepu_worker", *args]
