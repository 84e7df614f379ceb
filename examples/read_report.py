"""Reading a run's report: bytes by part and picture quality per segment, and a plot.

    mirage-stream run --input sample:carphone --out out/demo
    python examples/read_report.py out/demo [PLOT.png]

``report.json``'s keys are listed in docs/configuration.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: read_report.py RUN_FOLDER [PLOT.png]", file=sys.stderr)
        return 2
    report = json.loads((Path(argv[0]) / "report.json").read_text())
    for row in report["segments"]:
        parts = row["payload_bytes"] or {}
        print(
            f"segment {row['index']}: {parts.get('total')} B "
            f"(caption {parts.get('caption')}, keyframes {parts.get('keyframes')}, "
            f"reference {parts.get('reference', 0)}), {row.get('bit_errors')} bit errors, "
            f"PSNR {row['psnr_db']} dB"
        )
    totals = report["totals"]
    print(f"in all: {totals['payload_bytes']} B, {totals['data_speedup']}x fewer than raw video")
    if len(argv) > 1:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [row for row in report["segments"] if row["payload_bytes"]]
        figure, axes = plt.subplots(figsize=(5, 3))
        axes.bar([row["index"] for row in rows], [row["payload_bytes"]["total"] for row in rows])
        axes.set_xlabel("segment")
        axes.set_ylabel("bytes sent")
        figure.tight_layout()
        figure.savefig(argv[1], dpi=100)
        print(f"plot: {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
