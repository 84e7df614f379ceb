"""Prompt personalisation (eq. 16): prompt = [content || identity || style] from the received
caption and the receiver's profile.

A profile is a TOML file, checked in full when it is loaded (a wrong option stops the receiver
at start-up, not mid-call)::

    [identity]
    mode = "anonymise"            # keep | anonymise | substitute
    persona = "a friendly robot"  # required by substitute

    [style]
    preset = "oil-painting"       # none | cinematic | animation | oil-painting
    text = "soft brush strokes"   # free text, appended
    lighting = "warm"             # natural | warm | cool | bright | dim
    colour = "muted earth tones"  # free text

    [safety]
    blocked_words = ["crowd"]     # added to the built-in list
    negative_prompt = "text, watermark"

Building a prompt is deterministic: the same caption and profile always give the same text.
"""

from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirage_stream.anonymise import scrub_identity
from mirage_stream.errors import InputError


class IdentityMode(enum.Enum):
    KEEP = "keep"
    ANONYMISE = "anonymise"
    SUBSTITUTE = "substitute"


class StylePreset(enum.Enum):
    NONE = "none"
    CINEMATIC = "cinematic"
    ANIMATION = "animation"
    OIL_PAINTING = "oil-painting"


class Lighting(enum.Enum):
    NATURAL = "natural"
    WARM = "warm"
    COOL = "cool"
    BRIGHT = "bright"
    DIM = "dim"


STYLE_WORDS = {
    StylePreset.NONE: "",
    StylePreset.CINEMATIC: "Cinematic film look, shallow depth of field, teal and orange grade.",
    StylePreset.ANIMATION: "Disney-like 2D animation, clean outlines, flat vivid colours.",
    StylePreset.OIL_PAINTING: "An oil painting with visible brush strokes and rich texture.",
}
STYLE_NEGATIVE = {
    StylePreset.NONE: "",
    StylePreset.CINEMATIC: "flat lighting",
    StylePreset.ANIMATION: "photorealistic, film grain",
    StylePreset.OIL_PAINTING: "photograph, sharp digital edges",
}
LIGHTING_WORDS = {
    Lighting.NATURAL: "",
    Lighting.WARM: "Warm golden light.",
    Lighting.COOL: "Cool bluish light.",
    Lighting.BRIGHT: "Bright, even light.",
    Lighting.DIM: "Dim, low-key light.",
}
BASE_NEGATIVE = "blurry, distorted faces, extra limbs, watermark, text, low quality"
# Words never passed to a generator, whatever the caption says (the profile can add more).
BUILT_IN_BLOCKED = ("nude", "naked", "gore", "blood", "weapon", "gun", "kill", "corpse")
_PERSON_WORDS = re.compile(r"\b(person|people)\b")


@dataclass(frozen=True)
class ReceiverProfile:
    identity: IdentityMode = IdentityMode.KEEP
    persona: str = ""
    style: StylePreset = StylePreset.NONE
    style_text: str = ""
    lighting: Lighting = Lighting.NATURAL
    colour: str = ""
    blocked_words: tuple[str, ...] = BUILT_IN_BLOCKED
    negative_prompt: str = ""

    def __post_init__(self) -> None:
        if self.identity is IdentityMode.SUBSTITUTE and not self.persona.strip():
            raise InputError("profile: identity mode 'substitute' needs a persona")


@dataclass(frozen=True)
class GenerationPrompt:
    """The three parts of eq. 16 and the negative prompt."""

    content: str
    identity: str
    style: str
    negative: str
    removed: tuple[str, ...] = field(default=())  # blocked words taken out

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.content, self.identity, self.style) if part)


def _enum(kind: type[enum.Enum], value: Any, where: str) -> Any:
    allowed = [member.value for member in kind]
    if value not in allowed:
        raise InputError(f"profile: {where} must be one of {', '.join(allowed)}, got {value!r}")
    return kind(value)


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise InputError(f"profile: {where}.{key} must be text, got {type(value).__name__}")
    return value.strip()


def _table(data: dict[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise InputError(f"profile: [{name}] must be a table")
    unknown = set(table) - keys
    if unknown:
        raise InputError(f"profile: unknown option(s) in [{name}]: {', '.join(sorted(unknown))}")
    return table


def parse_profile(data: dict[str, Any]) -> ReceiverProfile:
    """A profile from parsed TOML; unknown tables, keys or values are ``InputError``."""
    unknown = set(data) - {"identity", "style", "safety"}
    if unknown:
        raise InputError(f"profile: unknown table(s): {', '.join(sorted(unknown))}")
    identity = _table(data, "identity", {"mode", "persona"})
    style = _table(data, "style", {"preset", "text", "lighting", "colour"})
    safety = _table(data, "safety", {"blocked_words", "negative_prompt"})
    blocked = safety.get("blocked_words", [])
    if not isinstance(blocked, list) or not all(isinstance(w, str) for w in blocked):
        raise InputError("profile: safety.blocked_words must be a list of words")
    return ReceiverProfile(
        identity=_enum(IdentityMode, identity.get("mode", "keep"), "identity.mode"),
        persona=_text(identity, "persona", "identity"),
        style=_enum(StylePreset, style.get("preset", "none"), "style.preset"),
        style_text=_text(style, "text", "style"),
        lighting=_enum(Lighting, style.get("lighting", "natural"), "style.lighting"),
        colour=_text(style, "colour", "style"),
        blocked_words=BUILT_IN_BLOCKED + tuple(w.lower().strip() for w in blocked if w.strip()),
        negative_prompt=_text(safety, "negative_prompt", "safety"),
    )


def load_profile(path: Path) -> ReceiverProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"profile {path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"profile {path}: not UTF-8 text") from None
    return profile_from_text(text, str(path))


MAX_PROFILE_CHARS = 64 * 1024


def profile_from_text(text: str, name: str = "profile") -> ReceiverProfile:
    """A profile from TOML text; InputError for anything else."""
    if len(text) > MAX_PROFILE_CHARS:
        raise InputError(f"profile {name}: over {MAX_PROFILE_CHARS} characters")
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, and over-long integers
        raise InputError(f"profile {name}: not valid TOML ({type(error).__name__})") from None
    return parse_profile(data)


def _remove_blocked(text: str, blocked: tuple[str, ...]) -> tuple[str, list[str]]:
    removed: list[str] = []

    def drop(match: re.Match[str]) -> str:
        if match.group(0).lower() in blocked:
            removed.append(match.group(0).lower())
            return ""
        return match.group(0)

    cleaned = re.sub(r"[A-Za-z][A-Za-z-]*", drop, text)
    cleaned = re.sub(r"\s+([,.;:])", r"\1", re.sub(r" {2,}", " ", cleaned)).strip()
    return cleaned, removed


def build_prompt(caption: str, profile: ReceiverProfile) -> GenerationPrompt:
    """Eq. 16: [content || identity || style], safety-filtered, with a negative prompt."""
    content = caption.strip()
    identity = ""
    if profile.identity is IdentityMode.ANONYMISE:
        content = scrub_identity(content)
        identity = "Every person is anonymous, with no recognisable face."
    elif profile.identity is IdentityMode.SUBSTITUTE:
        content = _PERSON_WORDS.sub(
            lambda m: "persona" if m.group(0) == "person" else "personas", scrub_identity(content)
        )
        identity = f"Each persona is shown as {profile.persona}."
    style = " ".join(
        part
        for part in (
            STYLE_WORDS[profile.style],
            profile.style_text,
            LIGHTING_WORDS[profile.lighting],
            f"Colours: {profile.colour}." if profile.colour else "",
        )
        if part
    )
    removed: list[str] = []
    parts = []
    for part in (content, identity, style):
        cleaned, dropped = _remove_blocked(part, profile.blocked_words)
        parts.append(cleaned)
        removed += dropped
    negative = ", ".join(
        part
        for part in (BASE_NEGATIVE, STYLE_NEGATIVE[profile.style], profile.negative_prompt)
        if part
    )
    content, identity, style = parts
    return GenerationPrompt(content, identity, style, negative=negative, removed=tuple(removed))
