"""开封市职业技能证书登记系统 — the Kaifeng skills certification registry."""
from registry.app import create_app

__all__ = ["create_app"]
