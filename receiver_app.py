"""Receiver side of a live Mirage call: WebRTC signaling, generation and a playback page.

The same command as ``mirage-stream receive``, with the same receiver options as ``run``
(profile, generator, keyframe strength, damaged keyframes, generation queue). Serves on
loopback by default; prints a bearer token (or takes --token / --token-file) that senders and
the playback page must present, and the page's address::

    python receiver_app.py --port 8080
    # open the printed http://127.0.0.1:8080/#token=... in a browser
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mirage_stream.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    return cli_main(["receive", *args], prog="receiver_app.py")


if __name__ == "__main__":
    sys.exit(main())
