"""The certificate as a verifiable credential (可验证电子证书): Open Badges 3.0 / W3C VC 2.0, secured as VC-JOSE.

Pure: no Flask, no database. The credential is the JSON of an OpenBadgeCredential; it is secured as a
compact JWS (RFC 7515) with EdDSA over the registry's Ed25519 key — the key that signs the QR codes, so the
one public key at /certificates/public-key.pem checks both (docs/VERIFICATION.md). Header
{"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": …}, payload the credential itself (VC-JOSE-COSE §3.1.1):
any JOSE library checks it (the tests use PyJWT). Revocation is a W3C Bitstring Status List: the credential
names its list and bit; the list is itself a credential secured the same way, published by the app.
"""
import base64
import gzip
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.certificates.pdf import REGISTRY_NAME

MEDIA_TYPE = "application/vc+jwt"
CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
# Each status list holds the bits of 131,072 certificates (by database id): the specification's minimum
# size, 16 KB before compression, so a list does not tell which certificates a holder's bit is near.
LIST_SIZE = 131_072
KEY_ID = "key-1"


class CredentialError(ValueError):
    """A file that is not a credential of this registry, or whose signature does not hold (message Chinese)."""


def status_position(certificate_id: int) -> tuple[int, int]:
    """(list number, bit index) of a certificate's revocation bit."""
    return divmod(certificate_id, LIST_SIZE)


def issuer_id(base_url: str) -> str:
    return f"{base_url}/credentials/issuer"


def status_list_url(base_url: str, list_number: int) -> str:
    return f"{base_url}/credentials/status/{list_number}"


def build(snapshot: dict, certificate_id: int, base_url: str) -> dict:
    """The OpenBadgeCredential of an issued certificate, from its frozen snapshot: the holder's full name
    (as printed on the certificate), never the document number."""
    list_number, index = status_position(certificate_id)
    status_url = status_list_url(base_url, list_number)
    level = snapshot.get("level_label") or ""
    achievement_name = " ".join(part for part in (snapshot.get("occupation_name"), level) if part)
    return {
        "@context": CONTEXTS,
        "id": f"{base_url}/verify/{snapshot['number']}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": snapshot["title"],
        "issuer": {"id": issuer_id(base_url), "type": ["Profile"], "name": REGISTRY_NAME},
        "validFrom": f"{snapshot['issued_on']}T00:00:00+08:00",
        "awardedDate": f"{snapshot['issued_on']}T00:00:00+08:00",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": snapshot["name"]}],
            "licenseNumber": snapshot["number"],
            "achievement": {
                "id": f"{base_url}/credentials/achievements/{snapshot.get('occupation_code') or '-'}"
                      f"/{snapshot.get('level') or '-'}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": achievement_name or snapshot["title"],
                "humanCode": snapshot.get("occupation_code") or "",
                "description": f"{snapshot['title']}：{achievement_name}，由{snapshot['agency_name']}评价认定",
                "criteria": {"narrative": "依据国家职业技能标准，经职业技能等级认定合格"},
            },
        },
        "credentialStatus": {
            "id": f"{status_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": status_url,
        },
    }


def status_list(base_url: str, list_number: int, revoked_indexes: list[int], valid_from: str) -> dict:
    """The BitstringStatusListCredential of one list: bit i set when certificate (list, i) is revoked."""
    bits = bytearray(LIST_SIZE // 8)
    for index in revoked_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)  # bit 0 is the first byte's most significant bit
    url = status_list_url(base_url, list_number)
    return {
        "@context": CONTEXTS[:1],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(base_url),
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
            # Multibase base64url without padding ("u"), of the GZIP of the bits; mtime 0 keeps it stable.
            "encodedList": "u" + b64url(gzip.compress(bytes(bits), mtime=0)),
        },
    }


def is_bit_set(status_list_credential: dict, index: int) -> bool:
    encoded = status_list_credential["credentialSubject"]["encodedList"]
    if not encoded.startswith("u"):
        raise CredentialError("状态列表的编码不是 base64url 多重编码")
    bits = gzip.decompress(_unb64(encoded[1:]))
    if not 0 <= index < len(bits) * 8:
        raise CredentialError("状态列表中没有该证书的位置")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def sign(private_key: Ed25519PrivateKey, payload: dict, base_url: str) -> str:
    """The compact JWS of `payload` (UTF-8 JSON, keys sorted so the same credential gives the same text)."""
    header = {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": f"{issuer_id(base_url)}#{KEY_ID}"}
    signing_input = f"{b64url(_json(header))}.{b64url(_json(payload))}"
    return f"{signing_input}.{b64url(private_key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class Checked:
    header: dict
    payload: dict


def verify(public_key: Ed25519PublicKey, token: str) -> Checked:
    """The header and payload of a compact JWS signed with `public_key`; CredentialError otherwise."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise CredentialError("文件不是可验证电子证书（不是 JWS 紧凑格式）")
    try:
        header, payload = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise CredentialError("文件不是可验证电子证书（内容无法解析）") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or not isinstance(payload, dict):
        raise CredentialError("文件不是本系统的可验证电子证书（签名算法不是 EdDSA）")
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except (InvalidSignature, ValueError):
        raise CredentialError("签名无效：内容被改动过，或不是本系统的密钥所签") from None
    return Checked(header, payload)


def _json(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
