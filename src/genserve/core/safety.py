"""The image safety policy: a configurable term blocklist and Imagen's personGeneration rules, on prompts.

Without a classifier model this is word matching on the prompt text only: it catches prompts that name a
blocked term or a person (for dont_allow) or a minor (for allow_adult), in English, as whole words. It cannot
see what a diffusion model actually draws, nor paraphrases, other languages or misspellings (README)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class PersonGeneration(str, enum.Enum):
    DONT_ALLOW = "DONT_ALLOW"
    ALLOW_ADULT = "ALLOW_ADULT"  # Imagen's default
    ALLOW_ALL = "ALLOW_ALL"


class BlockReason(str, enum.Enum):
    """Gemini's promptFeedback.blockReason values that this policy gives."""

    BLOCKLIST = "BLOCKLIST"
    PROHIBITED_CONTENT = "PROHIBITED_CONTENT"


# Words that put a minor in the picture (blocked unless ALLOW_ALL) ...
MINOR_TERMS = (
    "child children kid kids baby babies toddler toddlers infant infants boy boys girl girls teen teens "
    "teenager teenagers schoolboy schoolgirl newborn minor minors"
).split()
# ... and any person at all (blocked under DONT_ALLOW).
PERSON_TERMS = (
    MINOR_TERMS
    + (
        "person persons people man men woman women human humans adult adults guy guys lady ladies gentleman "
        "gentlemen face faces portrait portraits selfie crowd worker workers doctor doctors nurse nurses "
        "player players actor actress someone somebody he she his her him family couple "
        "mother father mom dad grandmother grandfather friend friends student students soldier soldiers"
    ).split()
)


@dataclass(frozen=True)
class Verdict:
    reason: BlockReason
    message: str  # for raiFilteredReason / logs: which rule matched, never the whole prompt


def _pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({t.strip().lower() for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


class SafetyPolicy:
    def __init__(self, blocklist: Iterable[str] = ()) -> None:
        self._blocklist = _pattern(blocklist)
        self._people = _pattern(PERSON_TERMS)
        self._minors = _pattern(MINOR_TERMS)

    def check(self, prompt: str, person_generation: PersonGeneration | None) -> Verdict | None:
        """None when the prompt may be drawn, else why not."""
        if self._blocklist is not None and (hit := self._blocklist.search(prompt)):
            return Verdict(BlockReason.BLOCKLIST, f"The prompt contains a blocked term ('{hit.group(1)}').")
        rules: dict[PersonGeneration | None, tuple[re.Pattern[str] | None, str, str]] = {
            PersonGeneration.DONT_ALLOW: (self._people, "people", "dont_allow"),
            PersonGeneration.ALLOW_ADULT: (self._minors, "children", "allow_adult"),
        }
        rule = rules.get(person_generation)
        if rule is not None and rule[0] is not None and (hit := rule[0].search(prompt)):
            return Verdict(
                BlockReason.PROHIBITED_CONTENT,
                f"The prompt asks for {rule[1]} ('{hit.group(1)}'), which personGeneration {rule[2]} does not "
                "allow. Change the prompt or the personGeneration setting.",
            )
        return None
