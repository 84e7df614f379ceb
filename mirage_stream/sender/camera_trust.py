"""How far the camera's measured motion can be trusted: one sentence describes the camera for a
whole segment, so the move must hold across frame pairs, shots and both halves of the view."""

from __future__ import annotations

from mirage_stream.sender.flow import FlowPair, camera_motion
from mirage_stream.sender.shots import shot_of
from mirage_stream.types import MotionHints

CAMERA_CONFIDENCE = 0.8
UNSURE_CAMERA_CONFIDENCE = 0.3
CAMERA_AGREEMENT = 2 / 3  # share of frame pairs that must show the segment's camera move


def camera_move(hints: MotionHints) -> str:
    """What a caption would say the camera does (pan direction and zoom, or still), as a key:
    frame pairs agree when their keys are equal."""
    moves = []
    if hints.pans:
        horizontal = abs(hints.dx) >= abs(hints.dy)
        component = hints.dx if horizontal else hints.dy
        moves.append(("pan x" if horizontal else "pan y") + ("+" if component > 0 else "-"))
    if hints.zooms:
        moves.append("zoom " + ("in" if hints.zoom > 0 else "out"))
    return " and ".join(moves) or "still"


def camera_moves_between(flow: list[FlowPair], start: int, end: int) -> bool:
    """Whether the frame pairs measured inside frames [start, end) show the camera moving."""
    inside = [pair for pair in flow if start <= pair.start < end]
    return bool(inside) and camera_move(camera_motion(inside)) != "still"


def zoom_everywhere(flow: list[FlowPair], zoom: float) -> bool:
    """Whether both halves of the view scale the way the whole does, in most frame pairs."""
    agreeing = sum(
        all(half * zoom > 0 and abs(half) >= abs(zoom) / 3 for half in pair.zoom_halves)
        for pair in flow
    )
    return bool(agreeing >= CAMERA_AGREEMENT * len(flow))


def camera_confidence(flow: list[FlowPair], cuts: tuple[int, ...]) -> float:
    """One sentence describes the camera for the whole segment. It holds when most frame pairs
    show the move the median shows (a moving subject can drag the median of one pair), and,
    across a cut, when every shot measured (two pairs or more) shows the same move."""
    claimed = camera_move(camera_motion(flow))
    if claimed != "still" and flow:
        agreeing = sum(camera_move(camera_motion([pair])) == claimed for pair in flow)
        if agreeing < CAMERA_AGREEMENT * len(flow):
            return UNSURE_CAMERA_CONFIDENCE
    shots: dict[int, list[FlowPair]] = {}
    for pair in flow:
        shot = shot_of(pair.start, cuts)
        shots.setdefault(shot, []).append(pair)
    moves = {camera_move(camera_motion(pairs)) for pairs in shots.values() if len(pairs) >= 2}
    return CAMERA_CONFIDENCE if len(moves) <= 1 else UNSURE_CAMERA_CONFIDENCE
