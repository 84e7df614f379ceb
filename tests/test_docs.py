"""The docs say what the code does: every command they show parses with the flags they show, the
wire version they state is the code's, and the layout table names every module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mirage_stream.cli import main
from mirage_stream.wire.payload import VERSION

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# The apps are the same parsers as two subcommands.
PROGRAMS = {
    "mirage-stream": [],
    "python receiver_app.py": ["receive"],
    "python sender_app.py": ["send"],
}
_START = re.compile(r"^(mirage-stream|python receiver_app\.py|python sender_app\.py)(\s|$)")
_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
_WORD = re.compile(r"^[a-z][a-z0-9-]*$")


def shown_commands(text: str) -> list[str]:
    """Commands in ``text``: inline code spans, and indented block lines with the lines that
    continue them (indented further, or after a trailing backslash)."""
    commands = [span for span in re.findall(r"`([^`\n]+)`", text) if _START.match(span)]
    current: list[str] | None = None
    for line in text.splitlines():
        code = line[4:] if line.startswith("    ") else None
        stripped = re.split(r"\s#(\s|$)", code or "", maxsplit=1)[0].strip()
        if code is not None and _START.match(stripped):
            if current:
                commands.append(" ".join(current))
            current = [stripped.rstrip("\\").strip()]
        elif code is not None and current and code.startswith(" ") and stripped:
            current.append(stripped.rstrip("\\").strip())
        else:
            if current:
                commands.append(" ".join(current))
            current = None
    if current:
        commands.append(" ".join(current))
    return commands


def parser_words(command: str) -> list[str]:
    """The subcommand path of ``command`` (``bench table1``), before its first flag or value."""
    program = _START.match(command)
    assert program is not None
    words = list(PROGRAMS[program.group(1)])
    for token in command[program.end() :].split():
        if not _WORD.match(token):
            break
        words.append(token)
    return words


def _all_commands() -> list[tuple[str, str]]:
    return [
        (page.name, command)
        for page in PAGES
        for command in shown_commands(page.read_text(encoding="utf-8"))
    ]


def test_commands_are_found_in_blocks_inline_and_across_lines():
    text = (
        "Run `mirage-stream bench table1 --json` or:\n\n"
        "    mirage-stream run --input X [--snr-db -10]   # a comment --not-a-flag\n"
        "                      [--codec vq] # channel\n"
        "    python sender_app.py --receiver URL \\\n"
        "        --input sample:bikes\n"
    )
    assert shown_commands(text) == [
        "mirage-stream bench table1 --json",
        "mirage-stream run --input X [--snr-db -10] [--codec vq]",
        "python sender_app.py --receiver URL --input sample:bikes",
    ]
    assert parser_words("mirage-stream bench table1 --json") == ["bench", "table1"]
    assert parser_words("python sender_app.py --receiver URL") == ["send"]
    assert parser_words("mirage-stream report DIR") == ["report"]


def test_the_docs_show_many_commands():
    assert len(_all_commands()) > 40


@pytest.mark.parametrize(("page", "command"), _all_commands())
def test_each_command_the_docs_show_has_its_flags(page, command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    words = parser_words(command)
    with pytest.raises(SystemExit) as exited:
        main([*words, "--help"])
    assert exited.value.code == 0, f"{page}: {command}"
    help_text = capsys.readouterr().out
    missing = [flag for flag in _FLAG.findall(command) if flag not in help_text]
    assert missing == [], f"{page}: `{command}` shows flags that {' '.join(words)} lacks"


def test_the_wire_page_states_the_codes_version():
    text = (ROOT / "docs" / "wire.md").read_text(encoding="utf-8")
    assert re.findall(r"version (\d+)", text)[0] == str(VERSION)


def _layout_paths() -> list[str]:
    text = (ROOT / "docs" / "layout.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `")]
    return [path for row in rows for path in re.findall(r"`([^`]+)`", row)]


def test_the_layout_table_names_only_what_exists():
    missing = [path for path in _layout_paths() if not (ROOT / path).exists()]
    assert missing == []


def test_the_layout_table_covers_every_module():
    listed = [ROOT / path for path in _layout_paths()]
    uncovered = [
        str(path.relative_to(ROOT))
        for package in ("mirage_stream", "channel_sim")
        for path in sorted((ROOT / package).rglob("*.py"))
        if not any(path == entry or entry in path.parents for entry in listed)
    ]
    assert uncovered == []


def test_every_link_and_path_the_docs_name_exists():
    broken = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        links = [page.parent / t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]
        paths = [
            ROOT / p.split(":")[0]
            for p in re.findall(r"`((?:docs|mirage_stream|channel_sim|tests)/[^`\s*<]+)`", text)
        ]
        broken += [f"{page.name}: {path}" for path in links + paths if not path.exists()]
    assert broken == []


# How the project got here is the history's, not the docs': a user cannot follow "issue 27",
# "commit 3f2ce79" or what one machine had installed. An upstream source pinned to its
# commit ("owner/repo @ 2e2dcce") is provenance and stays.
_HISTORY = re.compile(
    r"\b[Ii]ssues? \d+|(?<!@ )\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,12}\b"
    r"|installed here|on this machine|this session|an earlier session|this commit"
    r"|the commit before|lent (?:in|to) "
)


def test_the_history_pattern_finds_history_and_spares_provenance():
    assert _HISTORY.search("measured before issue 38")
    assert _HISTORY.search("the version at a32247f gave 0.5")
    assert not _HISTORY.search("| ageitgey/face_recognition @ 2e2dcce (`clip.mp4`) |")
    assert not _HISTORY.search("1,923,385,472 parameters, 96899.14 ms, deadbeef-free")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_docs_speak_of_the_project_not_its_history(page):
    text = page.read_text(encoding="utf-8")
    found = [
        f"line {text.count(chr(10), 0, match.start()) + 1}: {match.group(0)!r}"
        for match in _HISTORY.finditer(text)
    ]
    assert found == []


def test_the_configuration_page_explains_every_report_key_and_component():
    import dataclasses

    from mirage_stream.link.config import ChannelConfig
    from mirage_stream.pipeline import SegmentTrace
    from mirage_stream.report import RunTotals, segment_row
    from mirage_stream.run import RunConfig

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    link_keys = [
        "snr_db",
        "ber",
        "bits_sent",
        "bits_exposed",
        "channel_bits",
        "overhead_bits",
        "tries",
    ]
    link_keys += [
        "residual_block_error",
        "delivered",
        "bit_errors",
        "damaged_symbols",
        "time_on_air_ms",
    ]
    keys = [
        *segment_row(SegmentTrace(0), ChannelConfig()),
        *link_keys,
        "raw_time_on_air_ms",
        *(field.name for field in dataclasses.fields(RunTotals)),
        *(field.name for field in dataclasses.fields(RunConfig)),
    ]
    assert [key for key in keys if f"`{key}`" not in text] == []


def test_the_command_line_reference_is_the_parsers_own_help():
    from mirage_stream.cli.reference import render_reference

    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == render_reference(), "run: python -m mirage_stream.cli.reference > docs/cli.md"


# Figures the docs state on several pages, each with the pattern that finds it: every page must
# give the same value (a figure is measured once and the other pages repeat or link it).
_REPEATED_FIGURES = {
    "face track per 2 s segment": [r"(?:face moves|face track)[^.|]{0,60}?(\d+) B a segment"],
    "reference picture": [r"reference picture[^.|]{0,40}?(?:about|~) ?(\d+(?:\.\d+)?) KB"],
    "codec below AV1, bikes": [r"gap to AV1 \((\d\.\d+) dB on bikes"],
    "codec below AV1, real test frames": [
        r"gap to AV1 \(\d\.\d+ dB on bikes, (\d\.\d+) dB",
        r"(\d\.\d+) dB under AV1 at matched bytes on real footage",
    ],
    "K=2048 over K=256, bikes": [r"K=2048 gains (\d\.\d+) dB"],
    "motion track, most bytes a segment": [
        r"up to (?:about )?(\d+) protected bytes a segment",
        r"track_bits\.py`\): 0 to (\d+) B a segment",
    ],
}


def test_a_figure_stated_on_several_pages_has_one_value():
    text = " ".join(" ".join(page.read_text(encoding="utf-8").split()) for page in PAGES)
    values = {
        name: sorted({value for pattern in patterns for value in re.findall(pattern, text)})
        for name, patterns in _REPEATED_FIGURES.items()
    }
    assert {name: found for name, found in values.items() if len(found) != 1} == {}
