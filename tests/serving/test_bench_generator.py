"""The load generator of bench/api.py against a real server: it counts what it sees."""

import asyncio

from api_server import ORIGIN, TOKEN

from bench.api import build_requests, drive, percentile_ms


def test_generator_counts_answers_and_errors(server):
    good = build_requests([ORIGIN], TOKEN["officer"], 50, seed=1)
    out = asyncio.run(drive(server.port, good, 2, 0.2, 1.0, server.proc.pid))
    assert out["requests"] > 20 and out["errors"] == 0
    assert 0 < out["p50_ms"] <= out["p95_ms"] <= out["p99_ms"] <= out["max_ms"]
    assert out["cpu_seconds"]["server"] > 0
    # a revoked token: every answer is a 401 and counted as an error, none as a latency
    bad = build_requests([ORIGIN], "not-a-token-at-all", 10, seed=1)
    out = asyncio.run(drive(server.port, bad, 1, 0.1, 0.5, server.proc.pid))
    assert out["requests"] > 0 and out["errors"] == out["requests"]
    assert set(out["error_kinds"]) == {"http_401"}


def test_percentiles_are_nearest_rank():
    xs = [i * 1_000_000 for i in range(1, 101)]  # 1..100 ms
    assert percentile_ms(xs, 0.5) == 50.0
    assert percentile_ms(xs, 0.95) == 95.0
    assert percentile_ms(xs, 0.99) == 99.0
