"""MotionTrack <-> a short bit string (the hints' 19th item carries it with the sample frames).

Per point: kind (1 bit), reach (5 bits, 1/64 of the width), which samples saw it (1 bit each),
then the positions seen in 1/255 of the frame: a hand's each whole (8 + 8 bits); a face
landmark's first whole and each later one as a step from the previous (6 + 6 bits, -32..31),
quantised in a closed loop so that errors never add up. Six face landmarks and two hands over
six samples come to about 750 bits. The hints travel protected (CRC, FEC, retries); a track
that still does not parse is left out, never an error.
"""

from __future__ import annotations

from mirage_stream.motion_track import MotionTrack, PointKind, Position, TrackedPoint

MAX_SAMPLES = 15
MAX_POINTS = 31
GRID = 255  # positions in 1/255 of the frame
REACH_UNITS = 64
_STEP_BITS = 6
_STEP_LOW = -(1 << (_STEP_BITS - 1))
_STEP_HIGH = (1 << (_STEP_BITS - 1)) - 1


class _Bits:
    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, number: int, width: int) -> None:
        self.value = (self.value << width) | (number & ((1 << width) - 1))
        self.count += width

    def to_bytes(self) -> bytes:
        pad = -self.count % 8
        return (self.value << pad).to_bytes((self.count + pad) // 8, "big")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = 8 * len(data)

    def take(self, width: int) -> int:
        if width > self.left:
            raise ValueError("track bits end early")
        self.left -= width
        return (self.value >> self.left) & ((1 << width) - 1)


def _cell(value: float) -> int:
    return max(0, min(GRID, round(value * GRID)))


def pack_track(track: MotionTrack) -> bytes:
    if len(track.sample_frames) > MAX_SAMPLES:
        raise ValueError(f"at most {MAX_SAMPLES} samples fit a track")
    points = track.points[:MAX_POINTS]
    bits = _Bits()
    bits.put(len(points), 5)
    for point in points:
        bits.put(int(point.kind), 1)
        bits.put(max(1, min(REACH_UNITS // 2 - 1, round(point.reach * REACH_UNITS))), 5)
        for position in point.positions:
            bits.put(position is not None, 1)
        last: tuple[int, int] | None = None
        for position in point.positions:
            if position is None:
                continue
            cell = (_cell(position[0]), _cell(position[1]))
            if point.kind is PointKind.HAND or last is None:
                bits.put(cell[0], 8)
                bits.put(cell[1], 8)
                last = cell
                continue
            steps = [
                max(_STEP_LOW, min(_STEP_HIGH, c - p)) for c, p in zip(cell, last, strict=True)
            ]
            for step in steps:
                bits.put(step - _STEP_LOW, _STEP_BITS)
            # The receiver's position, not the true one: the next step starts from there.
            last = (last[0] + steps[0], last[1] + steps[1])
    return bits.to_bytes()


def unpack_track(sample_frames: list[int], data: bytes) -> MotionTrack | None:
    """The track, or None when the bits do not make one (left out, never an error)."""
    try:
        reader = _Reader(data)
        samples = len(sample_frames)
        points = []
        for _ in range(reader.take(5)):
            kind = PointKind(reader.take(1))
            reach = reader.take(5) / REACH_UNITS
            seen = [bool(reader.take(1)) for _ in range(samples)]
            positions: list[Position | None] = []
            last: tuple[int, int] | None = None
            for present in seen:
                if not present:
                    positions.append(None)
                    continue
                if kind is PointKind.HAND or last is None:
                    last = (reader.take(8), reader.take(8))
                else:
                    step_x = reader.take(_STEP_BITS) + _STEP_LOW
                    step_y = reader.take(_STEP_BITS) + _STEP_LOW
                    last = (last[0] + step_x, last[1] + step_y)
                if not all(0 <= c <= GRID for c in last):
                    return None
                positions.append((last[0] / GRID, last[1] / GRID))
            points.append(TrackedPoint(kind, reach, tuple(positions)))
        return MotionTrack(tuple(sample_frames), tuple(points))
    except ValueError:
        return None
