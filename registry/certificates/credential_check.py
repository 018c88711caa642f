"""Offline checks of a verifiable credential for `registry verify-credential`: signature, then the revocation
bit in the status list the credential names (a file, or fetched once from its address)."""
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from registry.certificates import credential

FETCH_TIMEOUT_SECONDS = 15


def check_file(text: str, public_key: Ed25519PublicKey) -> credential.Checked:
    checked = credential.verify(public_key, text)
    payload = checked.payload
    if "VerifiableCredential" not in payload.get("type", []) or "credentialSubject" not in payload:
        raise credential.CredentialError("签名有效，但文件不是可验证电子证书")
    return checked


def read_status_list(checked: credential.Checked, status_file: str | None, fetch: bool) -> str | None:
    if status_file:
        with open(status_file, encoding="utf-8") as source:
            return source.read()
    if not fetch:
        return None
    url = _status_entry(checked)["statusListCredential"]
    if not url.startswith(("https://", "http://")):
        raise credential.CredentialError(f"状态列表地址不是网址：{url}")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (checked above)
            return response.read().decode("utf-8")
    except OSError as error:
        raise credential.CredentialError(f"无法获取状态列表 {url}：{error}") from None


def is_revoked(checked: credential.Checked, status_text: str, public_key: Ed25519PublicKey) -> bool:
    """The credential's bit, from a status list signed by the same key and being the list it names."""
    entry = _status_entry(checked)
    try:
        status_list = credential.verify(public_key, status_text).payload
    except credential.CredentialError as error:
        raise credential.CredentialError(f"状态列表不可信：{error}") from None
    if status_list.get("id") != entry["statusListCredential"]:
        raise credential.CredentialError(f"状态列表不是该证书所指的列表（应为 {entry['statusListCredential']}）")
    try:
        index = int(entry["statusListIndex"])
    except (TypeError, ValueError):
        raise credential.CredentialError("证书中的状态列表位置不是数字") from None
    return credential.is_bit_set(status_list, index)


def _status_entry(checked: credential.Checked) -> dict:
    entry = checked.payload.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("statusPurpose") != "revocation" \
            or not {"statusListCredential", "statusListIndex"} <= entry.keys():
        raise credential.CredentialError("证书没有撤销状态信息")
    return entry


def describe(payload: dict) -> list[str]:
    subject = payload.get("credentialSubject", {})
    names = [item.get("identityHash") for item in subject.get("identifier", []) if item.get("identityType") == "name"]
    achievement = subject.get("achievement", {})
    return [f"证书编号：{subject.get('licenseNumber', '—')}", f"持证人：{next(iter(names), '—')}",
            f"证书：{achievement.get('name', '—')}", f"发证日期：{str(payload.get('validFrom', '—'))[:10]}",
            f"签发：{payload.get('issuer', {}).get('name', '—')}"]
