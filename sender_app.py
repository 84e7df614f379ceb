"""Sender side of a live Mirage call: a camera or a file paced as one, sent over WebRTC.

The same command as ``mirage-stream send``, with the same options as ``run`` for the source,
the sender and the channel (every SNR process included)::

    python sender_app.py --receiver http://127.0.0.1:8080 --token TOKEN --input sample:carphone
    python sender_app.py --receiver http://127.0.0.1:8080 --token TOKEN --camera /dev/video0
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mirage_stream.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    return cli_main(["send", *args], prog="sender_app.py")


if __name__ == "__main__":
    sys.exit(main())
