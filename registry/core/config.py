"""Configuration from the environment, with development secrets generated into the instance folder."""
import base64
import logging
import os
import secrets
from pathlib import Path


log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_path() -> Path:
    return Path(os.environ.get("REGISTRY_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()


def database_url(instance: Path) -> str:
    url = os.environ.get("REGISTRY_DATABASE_URL") or f"sqlite:///{instance / 'registry.sqlite3'}"
    return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    # Operators paste libpq-style URLs; SQLAlchemy needs the driver named to pick psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class MissingKey(RuntimeError):
    """REGISTRY_PRODUCTION=1 and a key is not configured: the app refuses to start rather than make one up."""


def is_production() -> bool:
    return os.environ.get("REGISTRY_PRODUCTION", "0") == "1"


def secret_from_env_or_file(name: str, instance: Path, generate) -> str:
    """Production sets the variable; development gets a key kept in instance/ so restarts keep sessions and data."""
    value = os.environ.get(name)
    if value:
        return value
    if is_production():
        # A generated key would sign and encrypt with something nobody backs up (docs/DEPLOYMENT.md).
        raise MissingKey(f"生产环境（REGISTRY_PRODUCTION=1）必须设置 {name}，见 docs/DEPLOYMENT.md")
    path = instance / name.lower()
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = generate()
    path.write_text(value + "\n")
    path.chmod(0o600)
    log.warning("%s is not set: generated one into %s. Set it in production (docs/DEPLOYMENT.md).", name, path)
    return value


def random_key() -> str:
    """32 random bytes, url-safe base64: the form of both the data key and the Ed25519 signing key."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def pdf_signing_files(instance: Path) -> tuple[str, str]:
    """The PEM files of the PDF signature (PAdES): the private key, and the certificate chain, signer first.

    Development falls back to instance/, where registry.certificates.pdf_keys generates a chain on first
    use; production must name both files, and they must exist.
    """
    names = ("REGISTRY_PDF_SIGNING_KEY_FILE", "REGISTRY_PDF_SIGNING_CHAIN_FILE")
    configured = [os.environ.get(name) for name in names]
    if is_production():
        for name, path in zip(names, configured):
            if not path or not Path(path).is_file():
                raise MissingKey(f"生产环境（REGISTRY_PRODUCTION=1）必须设置 {name} 并指向存在的 PEM 文件，"
                                 "见 docs/DEPLOYMENT.md")
    key, chain = configured
    return key or str(instance / "pdf_signing_key.pem"), chain or str(instance / "pdf_signing_chain.pem")


def public_url() -> str:
    """REGISTRY_PUBLIC_URL, or else the address `registry serve` serves (it sets REGISTRY_SERVED_URL)."""
    return (os.environ.get("REGISTRY_PUBLIC_URL") or os.environ.get("REGISTRY_SERVED_URL")
            or "http://127.0.0.1:5000").rstrip("/")


def load_config() -> dict:
    instance = instance_path()
    pdf_key_file, pdf_chain_file = pdf_signing_files(instance)
    return {
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_DATABASE_URI": database_url(instance),
        "SECRET_KEY": secret_from_env_or_file("REGISTRY_SECRET_KEY", instance, lambda: secrets.token_urlsafe(48)),
        "DATA_KEY": secret_from_env_or_file("REGISTRY_DATA_KEY", instance, random_key),
        "SIGNING_KEY": secret_from_env_or_file("REGISTRY_SIGNING_KEY", instance, random_key),
        "PDF_SIGNING_KEY_FILE": pdf_key_file,
        "PDF_SIGNING_CHAIN_FILE": pdf_chain_file,
        # The address printed in QR codes and PDFs: where the public reaches the verify page. Unset, it is
        # the address `registry serve` actually serves (REGISTRY_SERVED_URL, set by that command).
        "PUBLIC_URL": public_url(),
        # Background work: huey's queue (an SQLite file here, or redis://…) and its worker processes.
        "TASK_QUEUE_URL": os.environ.get("REGISTRY_TASK_QUEUE_URL") or f"sqlite:///{instance / 'tasks.sqlite3'}",
        "TASKS_IMMEDIATE": False,
        "TASK_MEMORY_LIMIT_MB": int(os.environ.get("REGISTRY_TASK_MEMORY_LIMIT_MB", 2048)),
        "TASK_HEALTH_CHECK_SECONDS": float(os.environ.get("REGISTRY_TASK_HEALTH_CHECK_SECONDS", 5)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Cookies are Secure on every HTTPS request anyway (registry/core/security_headers.py); the variable
        # forces them Secure over plain HTTP too.
        "SESSION_COOKIE_SECURE": os.environ.get("REGISTRY_SECURE_COOKIES", "0") == "1",
        "REMEMBER_COOKIE_SECURE": os.environ.get("REGISTRY_SECURE_COOKIES", "0") == "1",
        # A request may carry a little more than the largest import file (form fields, multipart framing).
        "MAX_CONTENT_LENGTH": int(os.environ.get("REGISTRY_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)) + 64 * 1024,
        "IMPORT_MAX_BYTES": int(os.environ.get("REGISTRY_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
        "IMPORT_MAX_ROWS": int(os.environ.get("REGISTRY_IMPORT_MAX_ROWS", 200_000)),
        # Days that files with personal data stay in instance/: `registry purge-files` deletes older ones.
        "IMPORT_RETENTION_DAYS": int(os.environ.get("REGISTRY_IMPORT_RETENTION_DAYS", 7)),
        "EXPORT_RETENTION_DAYS": int(os.environ.get("REGISTRY_EXPORT_RETENTION_DAYS", 7)),
        "PER_PAGE": 25,
        # Batches with more certificates than this get their PDF/ZIP built by the task worker, with a progress page.
        "BATCH_OUTPUT_INLINE_LIMIT": int(os.environ.get("REGISTRY_BATCH_OUTPUT_INLINE_LIMIT", 200)),
        # A ZIP's entries are each signed (≈70 ms a file), so fewer are built while the request waits.
        "BATCH_ZIP_INLINE_LIMIT": int(os.environ.get("REGISTRY_BATCH_ZIP_INLINE_LIMIT", 40)),
        # A funnel leak list longer than this is exported by the task worker (≈0.3 s of writing per 5,000 rows).
        "LEAK_EXPORT_INLINE_LIMIT": int(os.environ.get("REGISTRY_LEAK_EXPORT_INLINE_LIMIT", 5000)),
        # Writes are kept short; a request that still finds the lock taken this long answers 503, not 500.
        "SQLITE_BUSY_TIMEOUT_SECONDS": float(os.environ.get("REGISTRY_SQLITE_BUSY_TIMEOUT_SECONDS", 10)),
        # PostgreSQL's JIT compilation of costly-looking statements: off unless asked for (core/db.py).
        "POSTGRES_JIT": os.environ.get("REGISTRY_POSTGRES_JIT", "0") == "1",
        "PROXY_COUNT": int(os.environ.get("REGISTRY_PROXY_COUNT", 0)),
        # Business rules the city may tune without a code change.
        "TRAINING_HOURS_TOLERANCE": float(os.environ.get("REGISTRY_TRAINING_HOURS_TOLERANCE", 0.1)),
        "ASSESSMENT_PASS_MARK": float(os.environ.get("REGISTRY_ASSESSMENT_PASS_MARK", 60)),
        # Days before a class starts that a trainee may already be enrolled (报名日期 ahead of 开班): within them
        # an import warns, beyond them it refuses the row.
        "ENROLLMENT_EARLY_DAYS": int(os.environ.get("REGISTRY_ENROLLMENT_EARLY_DAYS", 30)),
        # Certificate kinds that make a 持证人员 (comma-separated; empty = every kind). After a change, run
        # `registry stats rebuild` so the kept totals follow.
        "STATS_COUNTED_KINDS": os.environ.get("REGISTRY_STATS_COUNTED_KINDS", ""),
    }
