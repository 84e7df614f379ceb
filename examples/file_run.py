"""A file run from Python, with the components' configs composed by hand.

    python examples/file_run.py [INPUT] [OUT]      # default: sample:carphone -> out/example-run

The same chain as ``mirage-stream run``: here one keyframe a segment from the 64x64 K=256
codec, a short caption, and a channel whose SNR wanders around +5 dB. It prints the totals the
report holds.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mirage_stream.link.config import ChannelConfig, RandomWalkOptions
from mirage_stream.run import RunConfig, run_file
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig


def main(argv: list[str]) -> int:
    source = argv[0] if argv else "sample:carphone"
    out = Path(argv[1] if len(argv) > 1 else "out/example-run")
    config = RunConfig(
        input=InputConfig(input=source, max_seconds=4.0),
        out=out,
        sender=SenderConfig(codec="vq:K256", max_keyframes=1, granularity="short"),
        channel=ChannelConfig(
            snr_db=5.0, snr_process="random-walk", snr_process_options=RandomWalkOptions(2.0)
        ),
    )
    result = asyncio.run(run_file(config))
    totals = result.report.totals
    print(
        f"{totals.segments_played} of {totals.segments} segments played, "
        f"{totals.payload_bytes} B sent ({totals.data_speedup}x fewer than raw), "
        f"mean PSNR {totals.mean_psnr_db} dB; report: {result.report_path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
