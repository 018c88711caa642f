"""Tests for masking names, phone numbers and document numbers."""

import pytest

from registry.people.identity import DocumentType
from registry.people.masking import mask_document, mask_name, mask_phone


@pytest.mark.parametrize(
    ("document_type", "number", "expected"),
    [
        (DocumentType.RESIDENT_ID, "41020219800101123X", "410202********123X"),
        ("resident_id", "41020219800101123X", "410202********123X"),
        (DocumentType.HMT_RESIDENCE_PERMIT, "810000199001010012", "810000********0012"),
        (DocumentType.PASSPORT, "E12345678", "E1*****78"),
        (DocumentType.OTHER, "ABCDE", "AB*DE"),
        (DocumentType.PASSPORT, "ABCD", "A**D"),
        (DocumentType.PASSPORT, "ABC", "A*C"),
        (DocumentType.RESIDENT_ID, "", ""),
        (DocumentType.PASSPORT, None, ""),
    ],
)
def test_mask_document(document_type, number, expected):
    assert mask_document(document_type, number) == expected


def test_masked_resident_id_keeps_length():
    assert len(mask_document(DocumentType.RESIDENT_ID, "11010519491231002X")) == 18


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("张", "*"),
        (" 李四 ", "李*"),
        ("Anna", "A**a"),
        ("", ""),
    ],
)
def test_mask_name(name, expected):
    assert mask_name(name) == expected


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("0371-23456789", "*********6789"),
        ("12345", "*2345"),
        ("", ""),
    ],
)
def test_mask_phone(phone, expected):
    assert mask_phone(phone) == expected
