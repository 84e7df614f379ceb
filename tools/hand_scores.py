"""Print each palm the palm detector finds on the sampled frames of each clip, with the hand
landmark model's hand-presence score, as the sender sees the clip.

This is what ``hands.MIN_HAND_PRESENCE`` was read from (the tune halves; ``--split test``
shows the other half, which chose nothing)::

    python tools/hand_scores.py [--split tune|test|all] [--clips DIR]

Each clip is made and cut as ``mirage-stream bench caption`` does (one segment at the sender's
320x240 working size); "hands" after a clip's name says its labels have hands in view.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mirage_stream.bench.real_footage import evaluation_segments
from mirage_stream.sender.hands import HandLandmarkConfirmer, PalmDetector
from mirage_stream.sender.sightings import sample_indices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--clips", type=Path, help="folder to write (and reuse) the clips in")
    args = parser.parse_args()
    palms, confirmer = PalmDetector(), HandLandmarkConfirmer()
    folder = args.clips or Path(tempfile.mkdtemp(prefix="hand-scores-"))
    for set_name, clip, segment in evaluation_segments(args.split, folder):
        found = []
        for index in sample_indices(segment.num_frames, segment.duration):
            frame = segment.frames[index]
            for palm in palms.detect(frame):
                found.append(f"{palm.score:.2f}/{confirmer.presence(frame, palm):.2f}")
        hands = "hands" if clip.labels.hands else "-"
        print(f"{set_name:8} {clip.name:24} {hands:5} palm/presence: {' '.join(found)}")


if __name__ == "__main__":
    main()
