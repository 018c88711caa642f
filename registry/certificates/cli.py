"""`registry verify-qr TEXT`: tells a genuine certificate QR from a forged one, offline, by the public key;
`registry verify-signature FILE SIG`: the same key checks a signed file (a bulk check's answer)."""
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app

from registry.certificates import signing
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
