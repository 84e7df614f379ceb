"""A receiver with a profile: the people in the video replaced by a persona, in a painted style.

    python examples/receiver_profile.py [OUT]      # default: out/example-profile

The profile (``ReceiverProfile``, or a TOML file given as ``--profile``) changes only what the
receiver asks its generator for (eq. 16); the sender and the bytes on the link are the same.
It prints each segment's caption and the prompt the receiver built from it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.profile import IdentityMode, ReceiverProfile, StylePreset
from mirage_stream.run import RunConfig, run_file


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "out/example-profile")
    profile = ReceiverProfile(
        identity=IdentityMode.SUBSTITUTE,
        persona="a friendly robot",
        style=StylePreset.OIL_PAINTING,
    )
    config = RunConfig.for_input("sample:carphone", out, receiver=ReceiverConfig(profile=profile))
    report = asyncio.run(run_file(config)).report
    for row in report.segments:
        prompt = row["prompt"]
        print(f"segment {row['index']}: said {row['caption']!r}")
        print(f"  asked {prompt!r}" if prompt is not None else "  not generated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
