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


def test_production_refuses_to_start_without_the_pdf_signing_files(monkeypatch, tmp_path):
    import pytest

    from registry import create_app
    from registry.core.config import MissingKey

    for name in ("REGISTRY_SECRET_KEY", "REGISTRY_DATA_KEY", "REGISTRY_SIGNING_KEY"):
        monkeypatch.setenv(name, "x" * 43)
    monkeypatch.setenv("REGISTRY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("REGISTRY_PRODUCTION", "1")
    monkeypatch.delenv("REGISTRY_PDF_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("REGISTRY_PDF_SIGNING_CHAIN_FILE", str(tmp_path / "chain.pem"))
    with pytest.raises(MissingKey, match="REGISTRY_PDF_SIGNING_KEY_FILE"):
        create_app()
    (tmp_path / "key.pem").write_text("key")
    monkeypatch.setenv("REGISTRY_PDF_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    with pytest.raises(MissingKey, match="REGISTRY_PDF_SIGNING_CHAIN_FILE"):  # named, but not there
        create_app()
    monkeypatch.delenv("REGISTRY_SIGNING_KEY")
    (tmp_path / "chain.pem").write_text("chain")
    with pytest.raises(MissingKey, match="REGISTRY_SIGNING_KEY"):
        create_app()
    assert not (tmp_path / "registry_signing_key").exists(), "nothing generated in production"


def test_development_generates_the_pdf_signing_files_into_the_instance_folder(monkeypatch, tmp_path):
    from registry.core.config import pdf_signing_files

    monkeypatch.delenv("REGISTRY_PRODUCTION", raising=False)
    monkeypatch.delenv("REGISTRY_PDF_SIGNING_KEY_FILE", raising=False)
    monkeypatch.delenv("REGISTRY_PDF_SIGNING_CHAIN_FILE", raising=False)
    assert pdf_signing_files(tmp_path) == (str(tmp_path / "pdf_signing_key.pem"),
                                           str(tmp_path / "pdf_signing_chain.pem"))
