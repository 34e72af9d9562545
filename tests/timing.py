"""A time limit for tests that must not hang (SIGALRM; POSIX)."""
from __future__ import annotations

import signal
from contextlib import contextmanager


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    def fire(signum, frame):
        raise Hang(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
