"""Masking of identifiers in anything that leaves the system (exports, printouts): domain.md, Privacy."""

from __future__ import annotations

import re


def _mask(value: str | None, head: int, tail: int) -> str | None:
    if not value:
        return value
    text = str(value).strip()
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_id_number(value: str | None) -> str | None:
    """ID number: the first 6 and the last 4 characters stay (110105********1234)."""
    return _mask(value, 6, 4)


def mask_phone(value: str | None) -> str | None:
    """Phone: the first 3 and the last 4 digits stay (138****5678)."""
    return _mask(value, 3, 4)


_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def mask_free_text(value: str | None) -> str:
    """Free text (opinions, notes) leaving the system: ID numbers and mobile numbers in it masked."""
    if not value:
        return ""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)) or "", str(value))
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)) or "", text)
