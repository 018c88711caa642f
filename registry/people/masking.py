"""Masking of names, phone numbers and document numbers for public and aggregate views."""

import re

from registry.people.identity import DocumentType

# The first six characters are the address code and the last four include sex and check
# character; together they help staff tell people apart without revealing the birth date.
# A tuple, not a set: enum members hash by name, so a plain string would miss in a set.
_STRUCTURED_TYPES = (DocumentType.RESIDENT_ID, DocumentType.HMT_RESIDENCE_PERMIT)


def _keep_ends(text: str, head: int, tail: int) -> str:
    # Always hide at least one character: on short input, shrink both visible ends evenly.
    if head + tail >= len(text):
        side = (len(text) - 1) // 2
        head, tail = min(head, side), min(tail, side)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail:]


def mask_document(document_type: str, number: str) -> str:
    number = (number or "").strip()
    if not number:
        return ""
    if document_type in _STRUCTURED_TYPES:
        return _keep_ends(number, 6, 4)
    return _keep_ends(number, 2, 2)


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    phone = re.sub(r"\s+", "", phone or "")
    if not phone:
        return ""
    if re.fullmatch(r"1\d{10}", phone):
        return phone[:3] + "****" + phone[7:]
    return _keep_ends(phone, 0, 4)
