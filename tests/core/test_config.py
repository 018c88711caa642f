"""Where certificates point: REGISTRY_PUBLIC_URL, or else the address `registry serve` serves."""
from registry.core.config import public_url
from registry.server import served_url


def test_the_public_url_follows_the_served_port_unless_set(monkeypatch):
    monkeypatch.delenv("REGISTRY_PUBLIC_URL", raising=False)
    monkeypatch.setenv("REGISTRY_SERVED_URL", served_url("127.0.0.1", 8000))
    assert public_url() == "http://127.0.0.1:8000"
    monkeypatch.setenv("REGISTRY_PUBLIC_URL", "https://registry.example.gov.cn/")
    assert public_url() == "https://registry.example.gov.cn"


def test_a_wildcard_bind_is_named_by_the_machine(monkeypatch):
    monkeypatch.setattr("socket.getfqdn", lambda: "registry-host")
    assert served_url("0.0.0.0", 5000) == "http://registry-host:5000"
