"""Print the setting probe's P(outdoor) on each clip's probe frames, as the sender sees them.

This is what ``setting.INDOOR_BELOW`` and ``OUTDOOR_ABOVE`` were read from (the tune halves;
``--split test`` shows the other half, which chose nothing)::

    python tools/setting_scores.py [--split tune|test|all] [--clips DIR]

Each clip is made and cut exactly as ``mirage-stream bench caption`` does (one segment at the
sender's 320x240 working size), and the probe runs on the frames ``judge_setting`` picks.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from mirage_stream.bench.real_footage import evaluation_segments
from mirage_stream.sender.setting import PROBE_FRAMES, SsdSceneProbe
from mirage_stream.sender.sightings import sample_indices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--clips", type=Path, help="folder to write (and reuse) the clips in")
    args = parser.parse_args()
    probe = SsdSceneProbe()
    folder = args.clips or Path(tempfile.mkdtemp(prefix="setting-scores-"))
    for set_name, clip, segment in evaluation_segments(args.split, folder):
        sampled = sample_indices(segment.num_frames, segment.duration)
        spread = np.linspace(0, len(sampled) - 1, PROBE_FRAMES)
        chosen = sorted({sampled[round(i)] for i in spread})
        scores = [probe.outdoor_probability(segment.frames[i]) or 0.0 for i in chosen]
        shown = " ".join(f"{p:.2f}" for p in scores)
        print(f"{set_name:8} {clip.split:4} {clip.labels.setting:7} {shown}  {clip.name}")


if __name__ == "__main__":
    main()
