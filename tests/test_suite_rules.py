"""Rules of the suite itself (docs/testing.md): no test judges the speed of the machine it runs
on, so a busy machine gives the same verdict as an idle one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Names and keys of figures measured on the wall clock: real-time factors, durations, stalls,
# glass-to-glass latencies. (Time on air and Shannon latencies are computed, not measured.)
WALL_CLOCK_WORDS = re.compile(
    r"rtf|real_time|wall_s|elapsed|waited|g2g|glass_to_glass|stall|timings_ms|stage_ms"
    r"|s_per_generated_s|seconds_taken"
)
ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _mentions_wall_clock(node: ast.AST) -> bool:
    for part in ast.walk(node):
        if isinstance(part, ast.Name) and WALL_CLOCK_WORDS.search(part.id):
            return True
        if isinstance(part, ast.Attribute) and WALL_CLOCK_WORDS.search(part.attr):
            return True
        if (
            isinstance(part, ast.Constant)
            and isinstance(part.value, str)
            and WALL_CLOCK_WORDS.search(part.value)
        ):
            return True
    return False


def _is_zero(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0


def _is_set(node: ast.AST) -> bool:
    """``{"a", "b"} <= set(timings)`` asks which stages were timed, not how long they took."""
    if isinstance(node, ast.Set):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "set"


def wall_clock_bounds(source: str) -> list[int]:
    """Lines of ``assert``s that bound a wall-clock figure by anything but zero (``> 0`` says
    only that it was measured)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            sides = [compare.left, *compare.comparators]
            for op, left, right in zip(compare.ops, sides, sides[1:], strict=False):
                if not isinstance(op, ORDERINGS) or _is_set(left) or _is_set(right):
                    continue
                timed = _mentions_wall_clock(left) or _mentions_wall_clock(right)
                if timed and not (_is_zero(left) or _is_zero(right)):
                    lines.append(node.lineno)
    return sorted(set(lines))


# Conditions the rule must flag (True) or let pass (False), asserted as ``assert <condition>``.
# Kept as bare expressions so that a line-based grep for timed asserts does not read these
# samples as tests of the machine's speed.
RULE_SAMPLES = [
    ("result['rtf'] < 1.0", True),
    ("0 < x and elapsed < 2 * period", True),
    ("max(stats.glass_to_glass_s) <= 1.5", True),
    ("result['rtf'] > 0", False),
    ("row['latency_ms'] == 96.9", False),
    ("{'caption'} <= set(trace.timings_ms)", False),
]


@pytest.mark.parametrize(("condition", "flagged"), RULE_SAMPLES)
def test_the_rule_catches_what_it_is_for(condition, flagged):
    assert wall_clock_bounds("assert " + condition) == ([1] if flagged else [])


def test_no_test_bounds_a_wall_clock_figure():
    found = {
        path.name: lines
        for path in sorted(TESTS.glob("*.py"))
        if path.name != Path(__file__).name
        and (lines := wall_clock_bounds(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "speed figures belong in benches (docs/testing.md)"


def test_no_test_times_itself():
    # Deadlines (time.monotonic() + 60) guard against hangs; perf_counter only ever measures.
    timed = [
        f"{path.name}:{number}"
        for path in sorted(TESTS.glob("*.py"))
        if path.name != Path(__file__).name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "perf_counter" in line or "process_time" in line
    ]
    assert timed == []
