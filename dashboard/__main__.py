"""``python -m dashboard [--port 8050]``: serve the ward dashboard on 127.0.0.1."""

import argparse

from dashboard.app import create_app

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Serve the vrdp ward dashboard.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8050)
    args = ap.parse_args()
    create_app().run(host=args.host, port=args.port, debug=False)
