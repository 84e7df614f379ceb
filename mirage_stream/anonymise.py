"""What both ends use to take identity out: identity words out of text, faces out of pictures.

Neutral ground between the sender (privacy before sending) and the receiver (anonymised
generation): neither end imports the other.
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from mirage_stream.types import FrameArray

# Identity words and their neutral replacements; a word missing from the right-hand side is
# dropped. Applied to every backend's text when privacy is on.
_NEUTRAL = {
    "man": "person", "woman": "person", "men": "people", "women": "people",
    "boy": "person", "girl": "person", "boys": "people", "girls": "people",
    "guy": "person", "lady": "person", "gentleman": "person", "child": "person",
    "he": "they", "she": "they", "him": "them", "his": "their", "her": "their",
    "himself": "themselves", "herself": "themselves", "male": "", "female": "",
    "young": "", "old": "", "elderly": "", "teenage": "", "middle-aged": "",
    "blond": "", "blonde": "", "brunette": "", "bald": "", "bearded": "",
    "asian": "", "african": "", "caucasian": "", "white-skinned": "", "dark-skinned": "",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")


def scrub_identity(text: str) -> str:
    """``text`` without identity words: people become 'person', pronouns 'they'."""

    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        neutral = _NEUTRAL.get(word.lower())
        if neutral is None:
            return word
        return neutral.capitalize() if word[0].isupper() and neutral else neutral

    scrubbed = re.sub(r"\bskin(?:[- ]tones?)?\b", "", text, flags=re.IGNORECASE)
    scrubbed = _WORD.sub(replace, scrubbed)
    scrubbed = re.sub(r" {2,}", " ", scrubbed)
    # Articles follow the word that now comes after them: "an old man" -> "a person".
    scrubbed = re.sub(r"\b([Aa])n (?=[^aeiouAEIOU\W])", r"\1 ", scrubbed)
    scrubbed = re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", scrubbed)
    scrubbed = re.sub(r"\s+([,.;:])", r"\1", scrubbed)
    return re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", scrubbed).replace(", .", ".").strip()


def pixelate_region(image: FrameArray, x0: int, y0: int, x1: int, y1: int, blocks: int = 5) -> None:
    """Pixelate ``image[y0:y1, x0:x1]`` into ``blocks`` x ``blocks`` cells and blur the cell
    edges, in place: shape and colour stay, identity goes."""
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    coarse = cv2.resize(image[y0:y1, x0:x1], (blocks, blocks), interpolation=cv2.INTER_AREA)
    cells = cv2.resize(coarse, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
    sigma = max(x1 - x0, y1 - y0) / (2 * blocks)
    image[y0:y1, x0:x1] = np.asarray(cv2.GaussianBlur(cells, (0, 0), sigma), np.uint8)
