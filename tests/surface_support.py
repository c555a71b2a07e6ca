"""Serve the dashboard on a real HTTP server and read its pages in headless Chromium."""

import os
import shutil
import socket
import subprocess
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=15000",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="chromium not installed (apt-get install chromium)",
)


@contextmanager
def served(app):
    """``app`` (a Dash app) on a free loopback port; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()


def dom(url, tmp_path) -> str:
    """The page's DOM after its scripts ran (headless Chromium ``--dump-dom``)."""
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout


def screenshot(url, path, tmp_path, size="1280,1600") -> None:
    """A PNG of the page at ``url`` (headless Chromium ``--screenshot``)."""
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    cmd += [f"--window-size={size}", f"--screenshot={path}", url]
    subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


@contextmanager
def api_server(data_root, tokens: dict, **env):
    """The read API (``python -m serving.api``, real uvicorn) on a free port; yields its URL."""
    import json
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    full = {
        **os.environ,
        "VRDP_DATA_ROOT": str(data_root),
        "VRDP_API_TOKENS": json.dumps(tokens),
        "VRDP_API_HOST": "127.0.0.1",
        "VRDP_API_PORT": str(port),
        **env,
    }
    full.pop("VRDP_API_DEMO_TOKENS", None)
    log = Path(data_root) / f"api_server_{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "serving.api"],
            cwd=Path(__file__).resolve().parents[1],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
