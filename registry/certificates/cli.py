"""`registry verify-qr TEXT`: tells a genuine certificate QR from a forged one, offline, by the public key;
`registry verify-signature FILE SIG`: the same key checks a signed file (a bulk check's answer)."""
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app

from registry.certificates import credential, credential_check, signing
from registry.reference.models import LEVEL_LABELS

VALID, FORGED, INVALID = "有效", "伪造", "无效"


def configured_public_key() -> Ed25519PublicKey:
    return signing.load_private_key(current_app.config["SIGNING_KEY"]).public_key()


def key_from_file(path: str) -> Ed25519PublicKey:
    try:
        return signing.load_public_key(Path(path).read_text(encoding="ascii"))
    except (ValueError, UnicodeDecodeError, TypeError):
        raise click.ClickException(f"公钥文件 {path} 不是 PEM 格式的 Ed25519 公钥") from None


def claim_lines(claim: signing.QrClaim) -> list[str]:
    level = LEVEL_LABELS.get(int(claim.level)) if claim.level.isdigit() else None
    return [f"证书编号：{claim.number}", f"发证日期：{claim.issued_on}",
            f"职业技能等级：{claim.level}" + (f"（{level}）" if level else ""),
            f"职业编码：{claim.occupation_code}", f"姓名（脱敏）：{claim.masked_name}"]


@click.command("verify-qr")
@click.argument("text")
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="PEM file of the registry's public key (/certificates/public-key.pem); without it, the "
                   "key of this installation's configuration.")
def verify_qr_command(text: str, public_key_file: str | None) -> None:
    """Check a certificate QR's Ed25519 signature; prints 有效 or 伪造 and the signed fields, exit 0 or 1.

    Needs no database: with --public-key it needs nothing but that file.
    """
    public_key = key_from_file(public_key_file) if public_key_file else configured_public_key()
    try:
        claim = signing.parse_qr_text(text)
    except ValueError as error:
        click.echo(f"{FORGED}：{error}")
        raise SystemExit(1) from None
    authentic = signing.is_authentic(public_key, claim)
    click.echo(VALID if authentic else f"{FORGED}：签名与所列字段不符，或不是本系统的密钥所签")
    for line in claim_lines(claim):
        click.echo(f"  {line}")
    raise SystemExit(0 if authentic else 1)


REVOKED = "已撤销"


@click.command("verify-credential")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="PEM file of the registry's public key (/certificates/public-key.pem); without it, the "
                   "key of this installation's configuration.")
@click.option("--status-list", "status_file", type=click.Path(exists=True, dir_okay=False),
              help="The status list file the credential names (fetched once from its statusListCredential).")
@click.option("--fetch", is_flag=True, help="Fetch the status list from the address the credential names.")
def verify_credential_command(file: str, public_key_file: str | None, status_file: str | None,
                              fetch: bool) -> None:
    """Check a verifiable credential (.vc.jwt): its EdDSA signature, and with a status list, revocation.

    Prints 有效, 已撤销 or 伪造 and the credential's fields; exit 0 only when 有效. Offline with
    --public-key and --status-list.
    """
    public_key = key_from_file(public_key_file) if public_key_file else configured_public_key()
    try:
        checked = credential_check.check_file(Path(file).read_text(encoding="utf-8"), public_key)
        status_text = credential_check.read_status_list(checked, status_file, fetch)
        revoked = credential_check.is_revoked(checked, status_text, public_key) if status_text else None
    except (credential.CredentialError, UnicodeDecodeError) as error:
        click.echo(f"{FORGED}：{error}")
        raise SystemExit(1) from None
    click.echo(REVOKED if revoked else VALID)
    for line in credential_check.describe(checked.payload):
        click.echo(f"  {line}")
    if revoked is None:
        click.echo("  状态：未核对撤销状态（用 --status-list 提供状态列表文件，或用 --fetch 联网获取）")
    raise SystemExit(1 if revoked else 0)


@click.command("verify-signature")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("signature", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False),
              help="PEM file of the registry's public key (/certificates/public-key.pem); without it, the "
                   "key of this installation's configuration.")
def verify_signature_command(file: str, signature: str, public_key_file: str | None) -> None:
    """Check a signed file (a bulk check's .xlsx) against its detached Ed25519 signature (the .sig beside it).

    Prints 有效 or 无效, exit 0 or 1. The same key as verify-qr; needs no database.
    """
    public_key = key_from_file(public_key_file) if public_key_file else configured_public_key()
    data, signed = Path(file).read_bytes(), Path(signature).read_bytes()
    if signing.is_file_authentic(public_key, data, signed):
        click.echo(f"{VALID}：文件与签名一致，由本系统的密钥签名，未被改动")
        raise SystemExit(0)
    click.echo(f"{INVALID}：文件已被改动，或签名不是本系统的密钥所签")
    raise SystemExit(1)
