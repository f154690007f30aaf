"""Card numbers (PANs): detection and masking, with no dependency beyond the standard library.

A card number must never be accepted, logged or stored: 13-19 digits that pass the Luhn check
are treated as one wherever they appear, whatever stands between the digits (punctuation, any
whitespace, dashes, invisible format characters) and whatever form the digits take (superscript,
full-width, other scripts). One detector serves requests and log masking, in the payment
functions (through `payments_common`) and in the instances' health service.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from decimal import Decimal
from itertools import accumulate
from typing import Any

REDACTED = "[REDACTED]"
MIN_PAN_DIGITS, MAX_PAN_DIGITS = 13, 19
# After normalization: at least 13 ASCII digits joined by runs of anything that is neither letter
# nor digit (shorter chains cannot hold a card number, so the regex engine skips them).
_CHAIN = re.compile(r"[0-9](?:[\W_]*[0-9]){12,}")
_DIGIT_RUN = re.compile(r"[0-9]+")
# A fast, conservative pre-check in C: digits become "0", ASCII letters "X", and every other
# character is deleted (non-ASCII ones after encoding as "?"), so the digits of a chain end up
# adjacent. Without 13 adjacent digits there is no chain and the regex above, slow on long
# texts, is skipped; with them, it decides.
_DIGITS, _LETTERS = b"0123456789", b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_AS_CLASSES = bytes.maketrans(_DIGITS + _LETTERS, b"0" * len(_DIGITS) + b"X" * len(_LETTERS))
_NEITHER = bytes(byte for byte in range(128) if not chr(byte).isalnum())
_SHORTEST_CHAIN = b"0" * MIN_PAN_DIGITS


def _may_hold_a_chain(folded: str) -> bool:
    return _SHORTEST_CHAIN in folded.encode("ascii", "replace").translate(_AS_CLASSES, _NEITHER)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


# Letters that render as nothing: between digits they would end a chain while showing nothing.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def normalized(text: str) -> tuple[str, list[int] | None]:
    """The text as the detector reads it, and each character's index in `text` (None: the same).

    Every character with a digit value as that ASCII digit (other scripts, superscripts, circled
    and dingbat digits), the rest NFKC (full-width forms become ASCII); format characters (zero-width
    space or joiner, soft hyphen: category Cf) and invisible letters (Hangul fillers) dropped.
    """
    if text.isascii():
        return text, None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _INVISIBLE_LETTERS or unicodedata.category(char) == "Cf":
            continue
        digit = unicodedata.digit(char, None)
        folded = str(digit) if digit is not None else unicodedata.normalize("NFKC", char)
        chars.append(folded)
        origin.extend([index] * len(folded))
    return "".join(chars), origin


def pan_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) in `text` of every card number in it, whatever separates its digits.

    Any run of characters that are neither letters nor digits separates digit groups. Every
    run of whole groups holding 13-19 digits is a candidate, so extra groups before or after a
    card number do not hide it; a candidate passing Luhn is a card number.
    """
    folded, origin = normalized(text)
    if not _may_hold_a_chain(folded):
        return
    for chain in _CHAIN.finditer(folded):
        groups = [(m.start(), m.end()) for m in _DIGIT_RUN.finditer(chain.group())]
        digits = "".join(chain.group()[start:end] for start, end in groups)
        # Digit offsets of each group, so every candidate is checked in O(1) (a long chain of
        # short groups, a hostile body, would otherwise cost a Luhn pass per candidate).
        bounds, offset = [], 0
        for start, end in groups:
            bounds.append((offset, offset + end - start))
            offset += end - start
        sums = _luhn_sums(digits)
        for first, (low, _) in enumerate(bounds):
            for last in range(first, len(bounds)):
                high = bounds[last][1]
                if high - low > MAX_PAN_DIGITS:
                    break
                # The rightmost digit (high - 1) is not doubled; positions of the other parity are.
                doubled = sums[high % 2]
                if high - low >= MIN_PAN_DIGITS and (doubled[high] - doubled[low]) % 10 == 0:
                    start, end = chain.start() + groups[first][0], chain.start() + groups[last][1]
                    yield (start, end) if origin is None else (origin[start], origin[end - 1] + 1)


# Each digit as its Luhn-doubled contribution (2d, minus 9 above 9).
_DOUBLED = str.maketrans("0123456789", "0246813579")


def _luhn_sums(digits: str) -> tuple[list[int], list[int]]:
    """Prefix sums of Luhn contributions: [p][i] sums digits[:i], doubling positions of parity p."""
    plain, doubled = list(map(int, digits)), list(map(int, digits.translate(_DOUBLED)))
    even, odd = plain[:], doubled[:]
    even[0::2], odd[0::2] = doubled[0::2], plain[0::2]
    return list(accumulate(even, initial=0)), list(accumulate(odd, initial=0))


# Joins scanned texts: letters end a digit chain, so no card number is made of two texts.
_TEXT_BREAK = "\nX\n"


def contains_pan(value: Any) -> bool:
    """True if any string, number or key anywhere in `value` looks like a card number.

    Walks nested containers with an explicit stack (no nesting depth raises RecursionError),
    then scans every scalar at once.
    """
    if isinstance(value, str):  # the body, the common case
        return next(pan_spans(value), None) is not None
    texts: list[str] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
        elif isinstance(item, int | float | Decimal) and not isinstance(item, bool):
            texts.append(str(item))
    return next(pan_spans(_TEXT_BREAK.join(texts)), None) is not None


def mask_pans(text: str) -> str:
    """`text` with every card number replaced by REDACTED (overlapping candidates merged)."""
    spans = sorted(pan_spans(text))
    if not spans:
        return text
    merged = [spans[0]]
    for start, end in spans[1:]:
        if start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in reversed(merged):
        text = text[:start] + REDACTED + text[end:]
    return text
