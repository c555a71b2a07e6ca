"""make run's screen: one line per stage with its elapsed time, a live counter for long stages.

Everything else (Dagster's event log lines, dbt's output, warnings) goes to a
log file (:func:`quiet_output`), so the screen stays readable and fits on one
screen; the log keeps every line for when something fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path

__all__ = ["Console", "quiet_output", "fmt_seconds"]


def fmt_seconds(seconds: float) -> str:
    """``m:ss`` for a duration.

    >>> fmt_seconds(5.2), fmt_seconds(75), fmt_seconds(3600)
    ('0:05', '1:15', '60:00')
    """
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


class Console:
    """Stage lines and counters written to ``stream`` (the terminal, not the log).

    A stage's line stays open until something else is printed: a stage with
    nothing to say in between ends on its own line (``[0:17] boundaries ...
    done in 1.2 s``). On a terminal a counter redraws its line in place;
    otherwise (CI, a pipe) it prints a line at each tenth of the way, at most
    one every ``every`` seconds. Lines may come from other threads (the twin
    days run beside a stage): writes are serialised.
    """

    def __init__(self, stream=None, *, every: float = 10.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.t0 = time.monotonic()
        self.timings: dict[str, float] = {}
        self._stage: str | None = None
        self._stage_t0 = 0.0
        self._last_draw = 0.0
        self._drawn = False  # a counter line drawn in place, not ended
        self._open = False  # a stage's line printed without its end
        self._last_step = -1
        self._lock = threading.RLock()

    def line(self, text: str) -> None:
        """A plain line (ends an open stage line or a live counter line first)."""
        with self._lock:
            self._end_line()
            self.stream.write(text + "\n")
            self.stream.flush()

    def start(self, stage: str) -> None:
        """Begin a stage: print its name (the line stays open for its end)."""
        with self._lock:
            self._end_line()
            self._stage, self._stage_t0 = stage, time.monotonic()
            self._last_step = -1
            self.stream.write(f"[{fmt_seconds(self.elapsed())}] {stage} ...")
            self.stream.flush()
            self._open = True

    def count(self, done: int, total: int, unit: str) -> None:
        """Progress within the stage: done/total, elapsed, and an estimate of what is left."""
        now = time.monotonic()
        with self._lock:
            if self.tty:
                if done < total and now - self._last_draw < 0.5:
                    return
            else:  # a log, not a screen: a line at each tenth of the way at most
                step = int(10 * done / total) if total else 10
                if step == self._last_step or (done < total and now - self._last_draw < self.every):
                    return
                self._last_step = step
            self._last_draw = now
            spent = now - self._stage_t0
            left = (
                f", ~{fmt_seconds(spent / done * (total - done))} left" if 0 < done < total else ""
            )
            text = f"      {done}/{total} {unit}  {fmt_seconds(spent)} elapsed{left}"
            if self._open:
                self.stream.write("\n")
                self._open = False
            if self.tty:
                self.stream.write("\r" + text.ljust(72))
                self._drawn = True
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def done(self, note: str = "") -> float:
        """End the stage: record and print its time (on the stage's line if still open)."""
        with self._lock:
            spent = time.monotonic() - self._stage_t0
            self.timings[self._stage] = round(spent, 1)
            text = f"done in {spent:.1f} s{'  ' + note if note else ''}"
            if self._open:
                self.stream.write(f" {text}\n")
                self.stream.flush()
                self._open = False
            else:  # other lines came between: say which stage ended
                self.line(f"      {self._stage.split(' (')[0]}: {text}")
            self._stage = None
            return spent

    def elapsed(self) -> float:
        """Seconds since the console was made."""
        return time.monotonic() - self.t0

    def _end_line(self) -> None:
        if self._drawn or self._open:
            self.stream.write("\n")
            self._drawn = self._open = False


@contextlib.contextmanager
def quiet_output(log_path: Path):
    """Send this process's stdout and stderr (and its children's) to ``log_path``.

    Yields a text stream on the original stdout for the :class:`Console`. Works
    at the file-descriptor level, so dbt's subprocess output, Dagster's log
    handlers and worker processes all land in the log file.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    screen = os.fdopen(os.dup(1), "w", buffering=1)
    with open(log_path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield screen
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            screen.flush()
