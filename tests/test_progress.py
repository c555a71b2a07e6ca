"""make run's screen (orchestration.progress.Console): one line per stage, counters, who ended."""

import io

from orchestration.progress import Console


def _console():
    out = io.StringIO()
    return Console(out, every=0.0), out


def test_a_quiet_stage_starts_and_ends_on_one_line():
    c, out = _console()
    c.start("boundaries")
    c.done("built")
    c.start("summary")
    c.done()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[0:00] boundaries ... done in ") and lines[0].endswith(" s  built")
    assert lines[1].startswith("[0:00] summary ... done in ")
    assert set(c.timings) == {"boundaries", "summary"}


def test_lines_between_a_start_and_its_end_name_the_stage_that_ended():
    c, out = _console()
    c.start("warehouse and analyses (dbt, linkage)")
    c.line("twin day 2026-01-01: 12 spots tasked")
    c.done("86 of 113 assets")
    lines = out.getvalue().splitlines()
    assert lines == [
        "[0:00] warehouse and analyses (dbt, linkage) ...",
        "twin day 2026-01-01: 12 spots tasked",
        lines[2],
    ]
    assert lines[2].startswith("      warehouse and analyses: done in ")
    assert lines[2].endswith("86 of 113 assets")


def test_a_counter_off_a_terminal_prints_a_line_per_tenth_then_the_stage_ends():
    c, out = _console()
    c.start("sources")
    for done in range(0, 101):
        c.count(done, 100, "deliveries")
    c.done("100 deliveries")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[0:00] sources ..."
    counters = lines[1:-1]
    assert len(counters) == 11  # 0/100 .. 100/100 by tenths
    assert counters[-1].strip().startswith("100/100 deliveries")
    assert lines[-1].startswith("      sources: done in ")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_counter_redraws_one_line_that_ends_before_the_next():
    out = _Terminal()
    c = Console(out)
    c.start("sources")
    for done in range(0, 101):
        c.count(done, 100, "deliveries")
    c.line("a delivery failed")
    c.done()
    rows = out.getvalue().split("\n")
    assert rows[0] == "[0:00] sources ..."
    # one screen row for the counter: redrawn with carriage returns, its last state 100/100
    assert rows[1].startswith("\r") and rows[1].split("\r")[-1].strip().startswith("100/100")
    assert rows[2] == "a delivery failed"
    assert rows[3].startswith("      sources: done in ")
