"""Signed QR codes verify with the public key alone; any edited field or foreign key fails."""
import dataclasses

import pytest

from registry.certificates.signing import (
    generate_signing_key, is_authentic, load_private_key, load_public_key, parse_qr_text, public_key_pem, qr_text,
    sign,
)

SNAPSHOT = {"number": "S000041900001254000001", "issued_on": "2025-06-01", "level": 4,
            "occupation_code": "6-18-02-04", "name": "张三明"}


@pytest.fixture
def key():
    return load_private_key(generate_signing_key())


def test_round_trip_through_the_qr_text(key):
    text = qr_text(sign(key, SNAPSHOT), "https://registry.example/")
    assert text.startswith("https://registry.example/verify/S000041900001254000001?")
    claim = parse_qr_text(text)
    assert claim.masked_name == "张*明" and claim.level == "4"
    assert is_authentic(load_public_key(public_key_pem(key)), claim)


@pytest.mark.parametrize("field", ["number", "issued_on", "level", "occupation_code", "masked_name"])
def test_an_edited_field_fails(key, field):
    claim = sign(key, SNAPSHOT)
    forged = dataclasses.replace(claim, **{field: "X" + getattr(claim, field)})
    assert not is_authentic(key.public_key(), forged)


def test_another_key_or_a_garbled_signature_fails(key):
    claim = sign(key, SNAPSHOT)
    assert not is_authentic(load_private_key(generate_signing_key()).public_key(), claim)
    assert not is_authentic(key.public_key(), dataclasses.replace(claim, signature="not-base64!"))


def test_foreign_text_is_not_a_claim():
    with pytest.raises(ValueError, match="不是本系统的证书验证链接"):
        parse_qr_text("https://example.com/some/page")
