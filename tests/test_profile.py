"""Prompt personalisation (eq. 16) and receiver profiles."""

import pytest

from mirage_stream.errors import InputError
from mirage_stream.receiver import ReceiverProfile, build_prompt, load_profile
from mirage_stream.receiver.profile import IdentityMode, Lighting, StylePreset, parse_profile

CAPTION = "A young man talks to his friend in a car. The camera is almost still."


def test_keep_identity_passes_the_caption_through_in_order():
    prompt = build_prompt(CAPTION, ReceiverProfile(style=StylePreset.CINEMATIC))
    assert prompt.content == CAPTION and prompt.identity == ""
    assert prompt.text.startswith(CAPTION) and prompt.text.endswith(prompt.style)
    assert "Cinematic" in prompt.style and "flat lighting" in prompt.negative


def test_anonymise_removes_identity_words_and_says_so():
    prompt = build_prompt(CAPTION, ReceiverProfile(identity=IdentityMode.ANONYMISE))
    words = set(prompt.content.lower().replace(".", " ").split())
    assert not words & {"young", "man", "his"}
    assert "anonymous" in prompt.identity


def test_substitute_describes_everyone_as_the_persona():
    profile = ReceiverProfile(identity=IdentityMode.SUBSTITUTE, persona="a friendly robot")
    prompt = build_prompt(CAPTION, profile)
    assert "persona" in prompt.content and "man" not in prompt.content.split()
    assert prompt.identity == "Each persona is shown as a friendly robot."


def test_substitute_without_persona_is_rejected():
    with pytest.raises(InputError, match="persona"):
        ReceiverProfile(identity=IdentityMode.SUBSTITUTE)


def test_style_lighting_colour_and_free_text_are_composed():
    profile = ReceiverProfile(
        style=StylePreset.OIL_PAINTING,
        style_text="soft brush strokes",
        lighting=Lighting.WARM,
        colour="muted earth tones",
    )
    style = build_prompt(CAPTION, profile).style
    assert style.index("oil painting") < style.index("soft brush") < style.index("Warm")
    assert style.endswith("Colours: muted earth tones.")


def test_safety_filter_removes_blocked_words_and_reports_them():
    profile = parse_profile({"safety": {"blocked_words": ["friend"], "negative_prompt": "text"}})
    prompt = build_prompt("A man with a gun talks to his friend.", profile)
    assert "gun" not in prompt.text and "friend" not in prompt.text
    assert set(prompt.removed) == {"gun", "friend"}
    assert prompt.negative.endswith("text")


def test_prompts_are_deterministic():
    profile = ReceiverProfile(identity=IdentityMode.ANONYMISE, style=StylePreset.ANIMATION)
    assert build_prompt(CAPTION, profile) == build_prompt(CAPTION, profile)


def test_profile_file_round_trip(tmp_path):
    path = tmp_path / "me.toml"
    path.write_text(
        '[identity]\nmode = "substitute"\npersona = "a knight"\n'
        '[style]\npreset = "animation"\nlighting = "cool"\n'
    )
    profile = load_profile(path)
    assert profile.identity is IdentityMode.SUBSTITUTE and profile.persona == "a knight"
    assert profile.style is StylePreset.ANIMATION and profile.lighting is Lighting.COOL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[style]\npreset = "vaporwave"\n', "style.preset"),
        ('[identity]\nmode = "hide"\n', "identity.mode"),
        ('[style]\nlighting = "neon"\n', "style.lighting"),
        ("[colours]\nx = 1\n", "unknown table"),
        ('[style]\nfont = "serif"\n', "unknown option"),
        ("[style\n", "not valid TOML"),
        ('[safety]\nblocked_words = "gun"\n', "list of words"),
    ],
)
def test_bad_profiles_fail_at_start_up_with_a_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_profile(path)


def test_missing_profile_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        load_profile(tmp_path / "absent.toml")
