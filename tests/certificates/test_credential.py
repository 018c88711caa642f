"""The verifiable credential: checked by PyJWT (an independent JOSE library) and by `registry
verify-credential`; an edit or a revocation makes both say so."""
import base64
import gzip
import json
from urllib.parse import urlsplit

import jwt
import pytest

from registry.core.roles import Role
from registry.certificates import credential, rendering, signing
from registry.certificates.operations import issue_batch, revoke_certificate
from registry.core.db import db


@pytest.fixture
def certificate(approved_batch):
    certificate = issue_batch(None, approved_batch(passed=1, failed=0))[0]
    db.session.commit()
    return certificate


def qr_query(certificate) -> str:
    return urlsplit(signing.qr_text(signing.sign(rendering.signing_key(), certificate.snapshot), "http://x")).query


def download(client, certificate) -> str:
    response = client.get(f"/verify/{certificate.number}/credential.jwt?{qr_query(certificate)}")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def independent_decode(token: str) -> dict:
    """PyJWT with the public key as published at /certificates/public-key.pem: not our own code."""
    public_key = jwt.algorithms.OKPAlgorithm.from_jwk(json.dumps(
        {"kty": "OKP", "crv": "Ed25519", "x": credential.b64url(rendering.signing_key().public_key().public_bytes_raw())}))
    return jwt.decode(token, key=public_key, algorithms=["EdDSA"])


def edited(token: str, old: str, new: str) -> str:
    header, payload, signature = token.split(".")
    text = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode("utf-8").replace(old, new, 1)
    return ".".join((header, credential.b64url(text.encode("utf-8")), signature))


def test_the_credential_verifies_with_pyjwt_and_is_an_open_badge(client, certificate):
    token = download(client, certificate)
    header = jwt.get_unverified_header(token)
    assert {key: header[key] for key in ("alg", "typ", "cty")} == {"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc"}
    assert header["kid"] == f"{rendering.public_url()}/credentials/issuer#key-1"
    body = independent_decode(token)
    assert body["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert body["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    subject = body["credentialSubject"]
    assert subject["licenseNumber"] == certificate.number
    assert subject["identifier"][0]["identityHash"] == certificate.snapshot["name"]
    assert certificate.snapshot["document_masked"] not in token and "document" not in json.dumps(body)
    assert body["credentialStatus"]["statusListIndex"] == str(certificate.id)


def test_pyjwt_refuses_an_edited_credential(client, certificate):
    token = download(client, certificate)
    forged = edited(token, certificate.snapshot["name"], "李四")
    with pytest.raises(jwt.InvalidSignatureError):
        independent_decode(forged)


def test_revocation_shows_in_the_published_status_list_checked_independently(client, certificate):
    token = download(client, certificate)
    entry = independent_decode(token)["credentialStatus"]
    path = urlsplit(entry["statusListCredential"]).path

    def bit() -> bool:
        status_list = independent_decode(client.get(path).get_data(as_text=True))
        bits = gzip.decompress(base64.urlsafe_b64decode(status_list["credentialSubject"]["encodedList"][1:] + "=="))
        index = int(entry["statusListIndex"])
        return bool(bits[index // 8] >> (7 - index % 8) & 1)

    assert bit() is False
    revoke_certificate(None, certificate, "考试作弊")
    db.session.commit()
    assert bit() is True


def test_the_public_download_needs_the_printed_qr_fields(client, certificate):
    assert client.get(f"/verify/{certificate.number}/credential.jwt").status_code == 404
    forged = qr_query(certificate).replace("s=", "s=A", 1)
    assert client.get(f"/verify/{certificate.number}/credential.jwt?{forged}").status_code == 404


def test_the_verify_page_offers_it_only_to_a_genuine_qr_of_a_valid_certificate(client, certificate):
    path = f"/verify/{certificate.number}"
    assert "下载可验证电子证书" in client.get(f"{path}?{qr_query(certificate)}").get_data(as_text=True)
    assert "下载可验证电子证书" not in client.get(path).get_data(as_text=True)
    revoke_certificate(None, certificate, "考试作弊")
    db.session.commit()
    assert "下载可验证电子证书" not in client.get(f"{path}?{qr_query(certificate)}").get_data(as_text=True)
    assert client.get(f"{path}/credential.jwt?{qr_query(certificate)}").status_code == 404


def test_the_agency_downloads_it_from_the_certificate_page(certificate, make_user, login):
    agency = login(make_user(Role.AGENCY, organization_id=certificate.agency_id))
    page = agency.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    assert "下载可验证电子证书" in page
    response = agency.get(f"/certificates/{certificate.id}/credential.jwt")
    assert response.status_code == 200 and independent_decode(response.get_data(as_text=True))


# --- registry verify-credential ------------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path, client, certificate):
    key = tmp_path / "public-key.pem"
    key.write_text(rendering.public_key_pem())
    token = download(client, certificate)
    (tmp_path / "c.vc.jwt").write_text(token)
    path = urlsplit(json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["credentialStatus"]
                    ["statusListCredential"]).path

    def status_list() -> str:
        target = tmp_path / "status.jwt"
        target.write_text(client.get(path).get_data(as_text=True))
        return str(target)

    return tmp_path, str(key), status_list


def test_cli_valid_then_revoked_offline(runner, files, certificate):
    folder, key, status_list = files
    result = runner.invoke(args=["verify-credential", str(folder / "c.vc.jwt"), "--public-key", key,
                                 "--status-list", status_list()])
    assert result.exit_code == 0 and result.output.startswith("有效"), result.output
    assert certificate.number in result.output and certificate.snapshot["name"] in result.output
    revoke_certificate(None, certificate, "考试作弊")
    db.session.commit()
    result = runner.invoke(args=["verify-credential", str(folder / "c.vc.jwt"), "--public-key", key,
                                 "--status-list", status_list()])
    assert result.exit_code == 1 and result.output.startswith("已撤销"), result.output


def test_cli_refuses_an_edited_credential_and_a_foreign_status_list(runner, files, certificate):
    folder, key, status_list = files
    token = (folder / "c.vc.jwt").read_text()
    (folder / "forged.vc.jwt").write_text(edited(token, certificate.number, certificate.number[:-1] + "9"))
    result = runner.invoke(args=["verify-credential", str(folder / "forged.vc.jwt"), "--public-key", key])
    assert result.exit_code == 1 and result.output.startswith("伪造") and "签名无效" in result.output
    other = folder / "other.jwt"
    other.write_text(credential.sign(signing.load_private_key(signing.generate_signing_key()),
                                     credential.status_list("http://127.0.0.1:5000", 0, [], "2026-01-01T00:00:00Z"),
                                     "http://127.0.0.1:5000"))
    result = runner.invoke(args=["verify-credential", str(folder / "c.vc.jwt"), "--public-key", key,
                                 "--status-list", str(other)])
    assert result.exit_code == 1 and "状态列表不可信" in result.output


def test_cli_without_a_status_list_checks_the_signature_and_says_status_is_unchecked(runner, files):
    folder, key, _ = files
    result = runner.invoke(args=["verify-credential", str(folder / "c.vc.jwt"), "--public-key", key])
    assert result.exit_code == 0 and "未核对撤销状态" in result.output
