"""p95 latency of ``/v1/hotspots/nearby`` and ``/v1/taskings/random`` under bounded local load.

Starts the real API (uvicorn, 127.0.0.1 only, free port) over the data root's
published export (``data/exports/latest`` after ``make run``), sends at most
``--requests`` requests per endpoint from ``--concurrency`` threads, stops after
``--max-seconds`` per endpoint, and writes ``bench/results/api.json``.

    python -m bench.api [--requests 1000] [--concurrency 4] [--max-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx

from orchestration.settings import REPO_ROOT, settings


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))] * 1000, 2)


def run(n: int, conc: int, max_s: float) -> dict:
    token = secrets.token_urlsafe(24)
    port = _port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "VRDP_API_TOKENS": json.dumps({token: {"user": "bench", "role": "analyst"}}),
        "VRDP_API_HOST": "127.0.0.1",
        "VRDP_API_PORT": str(port),
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
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers) as c:
            version = c.get("/v1/version").json()
            spots = c.get("/v1/taskings/today").json()["items"]
        rng = random.Random(7)
        centres = [(h["latitude"], h["longitude"]) for h in spots] or [(51.752, -1.2577)]

        def nearby(c, i):
            lat, lon = rng.choice(centres)
            p = {"lat": lat + rng.uniform(-0.01, 0.01), "lon": lon + rng.uniform(-0.01, 0.01)}
            return c.get("/v1/hotspots/nearby", params={**p, "radius_m": 1000})

        def rnd(c, i):
            lat, lon = rng.choice(centres)
            return c.get(
                "/v1/taskings/random",
                params={"lat": lat, "lon": lon},
                headers={"X-Request-ID": f"bench-{i}"},
            )

        results = {}
        for name, call in [("nearby", nearby), ("random", rnd)]:
            lat_s, errors, lock = [], [], threading.Lock()
            counter = iter(range(n))
            deadline = time.monotonic() + max_s

            def worker(call=call, lat_s=lat_s, errors=errors, lock=lock, counter=counter,
                       deadline=deadline):  # fmt: skip
                with httpx.Client(base_url=url, headers=headers, timeout=10) as c:
                    while time.monotonic() < deadline:
                        with lock:
                            i = next(counter, None)
                        if i is None:
                            return
                        t0 = time.perf_counter()
                        r = call(c, i)
                        dt = time.perf_counter() - t0
                        with lock:
                            (lat_s if r.status_code == 200 else errors).append(dt)

            t0 = time.monotonic()
            threads = [threading.Thread(target=worker) for _ in range(conc)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - t0
            results[name] = {
                "requests": len(lat_s) + len(errors),
                "errors": len(errors),
                "p50_ms": _pct(lat_s, 0.50),
                "p95_ms": _pct(lat_s, 0.95),
                "p99_ms": _pct(lat_s, 0.99),
                "mean_ms": round(statistics.mean(lat_s) * 1000, 2),
                "throughput_rps": round((len(lat_s) + len(errors)) / wall, 1),
            }
        return {
            "export_version": version.get("export_version"),
            "tasking_source": version.get("tasking_source"),
            "hotspots": len(spots),
            "concurrency": conc,
            "max_requests_per_endpoint": n,
            "max_seconds_per_endpoint": max_s,
            "server": "uvicorn, 1 worker, 127.0.0.1",
            "machine": f"{platform.machine()} {os.cpu_count()} cpus (shared)",
            "python": platform.python_version(),
            "endpoints": results,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-seconds", type=float, default=30)
    a = ap.parse_args()
    out = run(min(a.requests, 20_000), min(a.concurrency, 16), min(a.max_seconds, 120))
    out["data_root"] = str(settings().data_root)
    path = REPO_ROOT / "bench" / "results" / "api.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out["endpoints"], indent=2))


if __name__ == "__main__":
    main()
