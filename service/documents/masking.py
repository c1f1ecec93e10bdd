"""Masking of identifiers in anything that leaves the system (exports, printouts): domain.md, Privacy."""

from __future__ import annotations


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
