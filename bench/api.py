"""60-second load test of ``/v1/hotspots/nearby`` on loopback.

Starts the real API (``python -m serving.api``: uvicorn, uvloop, httptools, one
worker, 127.0.0.1, a free port) over the data root's published exports
(``data/exports`` after ``make run``) and drives it from this process with an
asyncio load generator: ``--connections`` keep-alive HTTP/1.1 connections, each
sending its next request as soon as the previous response is complete (closed
loop). Requests are pre-built (seeded random points around the tasked hot
spots), responses are parsed with httptools and every response is checked
(status 200, JSON body, ``count`` equal to the number of items).

Reported: throughput, latency p50/p95/p99/max, errors, the CPU seconds the
server and the generator each used, and the load average before and after
(the machine is shared; timings taken under load are pessimistic).

    python -m bench.api [--seconds 60] [--connections 8] [--warmup 3]

Writes ``bench/results/api.json``. Target (issue #9, 2 cores): at least
1,000 requests/s at p95 under 15 ms with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from array import array
from pathlib import Path
from urllib.parse import urlencode

import httptools
import httpx
import orjson

from bench.bookkeeping import load_average, machine, write_result
from config.settings import REPO_ROOT, settings
from exports.snapshot import SnapshotReader

TARGET = {"throughput_rps": 1000, "p95_ms": 15, "errors": 0}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile_ms(latencies_ns, q: float) -> float:
    """The ``q`` quantile (nearest rank) of latencies in nanoseconds, in milliseconds.

    >>> percentile_ms([1_000_000, 2_000_000, 3_000_000, 4_000_000], 0.5)
    2.0
    >>> percentile_ms([5_000_000], 0.99)
    5.0
    """
    xs = sorted(latencies_ns)
    if not xs:
        return float("nan")
    rank = max(1, -(-len(xs) * q // 1))  # ceil(n q), at least 1
    return round(xs[int(rank) - 1] / 1e6, 3)


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def build_requests(centres: list[tuple[float, float]], token: str, n: int, seed: int) -> list:
    """``n`` raw HTTP/1.1 keep-alive GETs of nearby at seeded points near ``centres``."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        lat, lon = rng.choice(centres)
        q = {
            "lat": round(lat + rng.uniform(-0.01, 0.01), 6),
            "lon": round(lon + rng.uniform(-0.01, 0.01), 6),
            "radius_m": 1000,
        }
        out.append(
            (
                f"GET /v1/hotspots/nearby?{urlencode(q)} HTTP/1.1\r\n"
                f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                "Accept: application/json\r\n\r\n"
            ).encode()
        )
    return out


class _Conn(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for the whole response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport = None
        self.waiter: asyncio.Future | None = None
        self.body: list[bytes] = []
        self.lost: Exception | None = None

    # asyncio.Protocol
    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._done(exc)

    def connection_lost(self, exc) -> None:
        self.lost = exc or ConnectionError("connection closed by server")
        self._done(self.lost)

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self._done(None)

    def _done(self, exc) -> None:
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            if exc is None:
                w.set_result((self.parser.get_status_code(), b"".join(self.body)))
            else:
                w.set_exception(exc)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.lost is not None:
            raise self.lost
        self.body = []
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


def _valid(status: int, body: bytes) -> bool:
    if status != 200:
        return False
    try:
        doc = orjson.loads(body)
    except ValueError:
        return False
    return isinstance(doc.get("items"), list) and doc.get("count") == len(doc["items"])


async def drive(port: int, requests: list[bytes], connections: int, warmup_s: float,
                seconds: float, server_pid: int) -> dict:  # fmt: skip
    """Closed-loop load for ``warmup_s + seconds``; only the last ``seconds`` are measured."""
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(connections):
        _, proto = await loop.create_connection(_Conn, "127.0.0.1", port)
        conns.append(proto)
    latencies = array("q")
    errors: dict[str, int] = {}
    state = {"measuring": False, "stop": False}
    t_start = time.monotonic()
    t_measure = t_start + warmup_s
    t_end = t_measure + seconds

    async def worker(idx: int, conn: _Conn) -> None:
        i = idx
        n = len(requests)
        while not state["stop"]:
            raw = requests[i % n]
            i += connections
            t0 = time.perf_counter_ns()
            try:
                status, body = await asyncio.wait_for(conn.request(raw), timeout=10)
                ok = _valid(status, body)
                kind = None if ok else f"http_{status}" if status != 200 else "bad_body"
            except (TimeoutError, OSError, ConnectionError, httptools.HttpParserError) as exc:
                kind = type(exc).__name__
                conn = await _reconnect(loop, port)
            dt = time.perf_counter_ns() - t0
            if state["measuring"]:
                if kind is None:
                    latencies.append(dt)
                else:
                    errors[kind] = errors.get(kind, 0) + 1

    tasks = [asyncio.create_task(worker(i, c)) for i, c in enumerate(conns)]
    await asyncio.sleep(max(0.0, t_measure - time.monotonic()))
    state["measuring"] = True
    cpu_server0, cpu_gen0, wall0 = _proc_cpu_s(server_pid), _self_cpu_s(), time.monotonic()
    await asyncio.sleep(max(0.0, t_end - time.monotonic()))
    state["measuring"] = False
    cpu_server1, cpu_gen1, wall1 = _proc_cpu_s(server_pid), _self_cpu_s(), time.monotonic()
    state["stop"] = True
    await asyncio.gather(*tasks, return_exceptions=True)
    for c in conns:
        c.transport.close()
    wall = wall1 - wall0
    n_err = sum(errors.values())
    return {
        "measured_seconds": round(wall, 2),
        "requests": len(latencies) + n_err,
        "errors": n_err,
        "error_kinds": errors,
        "throughput_rps": round((len(latencies) + n_err) / wall, 1),
        "p50_ms": percentile_ms(latencies, 0.50),
        "p95_ms": percentile_ms(latencies, 0.95),
        "p99_ms": percentile_ms(latencies, 0.99),
        "max_ms": round(max(latencies, default=0) / 1e6, 3),
        "mean_ms": round(sum(latencies) / max(1, len(latencies)) / 1e6, 3),
        "cpu_seconds": {
            "server": round(cpu_server1 - cpu_server0, 2),
            "generator": round(cpu_gen1 - cpu_gen0, 2),
        },
        "cpu_share_of_one_core": {
            "server": round((cpu_server1 - cpu_server0) / wall, 3),
            "generator": round((cpu_gen1 - cpu_gen0) / wall, 3),
        },
    }


async def _reconnect(loop, port: int) -> _Conn:
    _, proto = await loop.create_connection(_Conn, "127.0.0.1", port)
    return proto


def run(seconds: float, connections: int, warmup: float, seed: int) -> dict:
    token = secrets.token_urlsafe(24)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "VRDP_API_TOKENS": json.dumps({token: {"user": "bench", "role": "analyst"}}),
        "VRDP_API_HOST": "127.0.0.1",
        "VRDP_API_PORT": str(port),
        "VRDP_API_ACCESS_LOG": os.environ.get("VRDP_API_ACCESS_LOG", "0"),
    }
    env.pop("VRDP_API_DEMO_TOKENS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "serving.api"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/v1/health", timeout=1).json()["status"] == "ok":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("API did not start or no export is published (run `make run`)")
        # request points scatter around the served hot spots (read from the same export)
        snap = SnapshotReader(settings().exports_dir).current()
        spots = [h for h in snap.hotspots if h.arm in (None, "patrol")]
        centres = [(h.latitude, h.longitude) for h in spots] or [(51.752, -1.2577)]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            version = c.get("/v1/version").json()
            sample = c.get(
                "/v1/hotspots/nearby",
                params={"lat": centres[0][0], "lon": centres[0][1], "radius_m": 1000},
            ).json()
        reqs = build_requests(centres, token, 2000, seed)
        load_before = load_average()
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:  # pragma: no cover
            runner = asyncio.run
        result = runner(drive(port, reqs, connections, warmup, seconds, proc.pid))
        load_after = load_average()
        met = (
            result["errors"] == 0
            and result["throughput_rps"] >= TARGET["throughput_rps"]
            and result["p95_ms"] < TARGET["p95_ms"]
        )
        return {
            "endpoint": "/v1/hotspots/nearby",
            "target": TARGET,
            "target_met": met,
            **result,
            "export_version": version.get("export_version"),
            "tasking_source": version.get("tasking_source"),
            "tasked_hotspots": len(spots),
            "items_in_a_sample_response": sample.get("count"),
            "radius_m": 1000,
            "distinct_request_points": len(reqs),
            "seed": seed,
            "connections": connections,
            "warmup_seconds": warmup,
            "generator": "asyncio (uvloop) + httptools, keep-alive, closed loop, this process",
            "server": "python -m serving.api: uvicorn, uvloop, httptools, 1 worker, "
            f"access log {'on' if env['VRDP_API_ACCESS_LOG'] == '1' else 'off'}, 127.0.0.1",
            "load_average_before": load_before,
            "load_average_after": load_after,
            **machine(),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(REPO_ROOT / "bench" / "results" / "api.json"))
    a = ap.parse_args()
    out = run(min(a.seconds, 600), max(1, min(a.connections, 256)), a.warmup, a.seed)
    out["data_root"] = str(settings().data_root)
    out["command"] = "python -m bench.api " + " ".join(sys.argv[1:])
    write_result(Path(a.out).resolve(), out)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
