"""How many bytes the caller's reference picture needs: on the tune talking heads of
``footage/portrait/portrait_set.json``, the first working-size frame coded as an AV1 still
within each budget, and dlib's identity distance between the decoded still and three later
source frames of the same clip (under 0.6: the same person). The default
``--reference-bytes`` (``sender/portrait.py``) is where the distance stops falling. Needs the
bench extra (dlib).

    python tools/reference_budget.py
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np

from mirage_stream.bench.face_metrics import look
from mirage_stream.codecs.still import av1_still_within, decode_av1_still
from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH
from mirage_stream.sources.file_source import fit_frame

ROOT = Path(__file__).resolve().parent.parent
BUDGETS = (800, 1200, 1600, 2000, 2500, 3000, 4000, 6000)


def main() -> None:
    clips = json.loads((ROOT / "footage" / "portrait" / "portrait_set.json").read_text())
    rows: dict[int, list[tuple[int, int, float]]] = {budget: [] for budget in BUDGETS}
    for clip in (c for c in clips["clips"] if c["split"] == "tune"):
        with av.open(str(ROOT / clip["path"])) as container:
            frames = [
                fit_frame(f.to_ndarray(format="rgb24"), WORKING_WIDTH, WORKING_HEIGHT)
                for _, f in zip(range(151), container.decode(video=0), strict=False)
            ]
        later = [face for i in (50, 100, 150) if (face := look(frames[i])) is not None]
        for budget in BUDGETS:
            data, crf = av1_still_within(frames[0], budget)
            face = look(decode_av1_still(data))
            distance = (
                float(np.mean([np.linalg.norm(face.descriptor - o.descriptor) for o in later]))
                if face is not None and later
                else 1.0
            )
            rows[budget].append((len(data), crf, distance))
    print("budget  bytes  crf (per clip)              distance  worst")
    for budget, found in rows.items():
        sizes, crfs, distances = zip(*found, strict=True)
        print(
            f"{budget:6d} {np.mean(sizes):6.0f}  {list(crfs)!s:27} {np.mean(distances):.3f}"
            f"     {max(distances):.3f}"
        )


if __name__ == "__main__":
    main()
