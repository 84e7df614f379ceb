"""Print the face mesh's readings (``sender/face_reading.py``) on the sampled frames of each
clip, as the sender sees the clip, beside the clip's labels.

This is what the thresholds of ``sender/person_look.py`` were read from (the tune halves;
``--split test`` shows the other half, which chose nothing)::

    python tools/face_scores.py [--split tune|test|all] [--clips DIR]

Per frame: turn (nose from the face's middle, half widths; negative: the frame's left), tilt
(nose tip between eye line and chin), mouth (inner lips' gap, face heights), lift (mouth
corners above the lips' middle), eyes (lids' gap over width), bridge (glasses-bridge edge).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from mirage_stream.bench.real_footage import evaluation_segments
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.faces_seen import largest_faces
from mirage_stream.sender.sightings import sample_indices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--clips", type=Path, help="folder to write (and reuse) the clips in")
    args = parser.parse_args()
    analyser = SceneAnalyser()
    folder = args.clips or Path(tempfile.mkdtemp(prefix="face-scores-"))
    for set_name, clip, segment in evaluation_segments(args.split, folder):
        analysis = analyser.analyse(segment)
        sampled = sample_indices(segment.num_frames, segment.duration)
        close = {i: analyser.close_faces.detect(segment.frames[i]) for i in sampled}
        faces = largest_faces(analysis.candidates, close, segment.width, segment.height)
        labels = clip.labels
        print(
            f"{set_name} {clip.name}: expressions {list(labels.expressions)} "
            f"looks {list(labels.looks)} glasses {labels.glasses}"
        )
        for index, face in faces:
            reading = analyser.face_reader.read(segment.frames[index], face)
            if reading is None:
                print(f"  frame {index}: no mesh")
                continue
            print(
                f"  frame {index} ({face.width} px): turn {reading.turn:+.2f} "
                f"tilt {reading.tilt:.2f} mouth {reading.mouth_open:.3f} "
                f"lift {reading.corner_lift:+.3f} eyes {reading.eyes_open:.2f} "
                f"bridge {reading.bridge_edge:.1f}"
            )


if __name__ == "__main__":
    main()
