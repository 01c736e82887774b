"""The README's picture of the app: the demo adapter in a headless Chromium, three movies picked,
the first recommendation rejected (recorded in a scratch feedback log), the page saved as a PNG.

    python recipes/app_screenshot.py [--adapter outputs/items-cpu] [--out docs/app.png]

Needs the app extra (gradio, playwright) and Debian's chromium: `make test-slow` installs them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from instructrec_peft.inference.app import build_app, load_recommender

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ sits beside the package, outside the wheel

from benchmarks.app_browser import try_in_browser  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default=str(ROOT / "outputs" / "items-cpu"))
    parser.add_argument("--liked", nargs="+", default=["Star Wars (1977)", "Alien (1979)", "Terminator, The (1984)"])
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "docs" / "app.png"))
    parser.add_argument("--port", type=int, default=7863)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        rec, items = load_recommender(args.adapter, str(Path(scratch) / "feedback.jsonl"))
        demo = build_app(rec, items, k=args.k)
        demo.launch(server_port=args.port, prevent_thread_lock=True, quiet=True)
        try:
            rows = try_in_browser(f"http://127.0.0.1:{args.port}", args.liked, shutil.which("chromium"), k=args.k,
                                  screenshot=args.out)
        finally:
            demo.close()
    print("\n".join(rows))
    print(f"screenshot: {args.out}")


if __name__ == "__main__":
    main()
