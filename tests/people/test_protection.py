"""Tests for encryption and look-up hashes of document numbers."""

import base64

import pytest
from cryptography.fernet import InvalidToken

from registry.people.protection import DocumentProtector, generate_data_key

NUMBER = "11010519491231002X"


@pytest.fixture
def protector():
    return DocumentProtector(generate_data_key())


def test_round_trip(protector):
    assert protector.decrypt(protector.encrypt(NUMBER)) == NUMBER


def test_round_trip_of_non_ascii_number(protector):
    assert protector.decrypt(protector.encrypt("港-123")) == "港-123"


def test_encryptions_differ_but_decrypt_the_same(protector):
    first, second = protector.encrypt(NUMBER), protector.encrypt(NUMBER)
    assert first != second
    assert protector.decrypt(first) == protector.decrypt(second) == NUMBER


def test_ciphertext_does_not_contain_the_number(protector):
    token = protector.encrypt(NUMBER)
    assert isinstance(token, str)
    assert NUMBER not in token
    assert NUMBER.encode() not in base64.urlsafe_b64decode(token)


def test_lookup_hash_is_deterministic_per_key():
    key = generate_data_key()
    first = DocumentProtector(key).lookup_hash("resident_id", NUMBER)
    second = DocumentProtector(key).lookup_hash("resident_id", NUMBER)
    assert first == second
    assert len(first) == 64 and int(first, 16) >= 0


def test_same_key_decrypts_across_instances():
    key = generate_data_key()
    token = DocumentProtector(key).encrypt(NUMBER)
    assert DocumentProtector(key).decrypt(token) == NUMBER


def test_lookup_hash_differs_across_keys():
    first = DocumentProtector(generate_data_key()).lookup_hash("resident_id", NUMBER)
    second = DocumentProtector(generate_data_key()).lookup_hash("resident_id", NUMBER)
    assert first != second


def test_lookup_hash_differs_across_document_types(protector):
    assert protector.lookup_hash("resident_id", "E1234567") != protector.lookup_hash("passport", "E1234567")


def test_decrypt_with_another_key_fails():
    token = DocumentProtector(generate_data_key()).encrypt(NUMBER)
    with pytest.raises(InvalidToken):
        DocumentProtector(generate_data_key()).decrypt(token)


@pytest.mark.parametrize(
    "bad_key",
    [
        "",
        "not base64 !!",
        base64.urlsafe_b64encode(b"x" * 16).decode(),
        base64.urlsafe_b64encode(b"x" * 33).decode(),
    ],
)
def test_malformed_key_is_rejected(bad_key):
    with pytest.raises(ValueError, match="data key"):
        DocumentProtector(bad_key)


def test_generated_keys_are_distinct_and_32_bytes():
    first, second = generate_data_key(), generate_data_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32
