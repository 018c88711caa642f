"""Per-client rate limits for the public pages, per-user budgets for look-ups that could be abused, and the
Chinese answer when a client exceeds them."""
import os
from pathlib import Path

from flask import Flask, abort, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from registry.core import ratelimit_storage  # noqa: F401  (registers the sqlite:// storage scheme)

# Behind nginx, remote_addr is the client only when REGISTRY_PROXY_COUNT lets ProxyFix read X-Forwarded-For;
# otherwise every visitor shares the proxy's budget (docs/DEPLOYMENT.md).
limiter = Limiter(key_func=get_remote_address)

DEFAULT_LIMITS = {
    "VERIFY_PAGE_LIMITS": "60/minute;1000/day",
    "VERIFY_UPLOAD_LIMITS": "10/minute;200/day",
    "VERIFY_API_LIMITS": "120/minute;5000/day",
    # Per client address: rows of employer bulk checks (a name compared is a guess tried, whichever path).
    "VERIFY_BULK_ROW_LIMITS": "5000/hour;20000/day",
    # Per user: ID numbers an import (dry run or commit) looks up that are not in the user's records.
    "PERSON_LOOKUP_LIMITS": "50000/hour;200000/day",
}
GRANULARITY_WORDS = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天", "month": "月", "year": "年"}


def configured(name: str):
    """A limit read per request, so an app (or a test) may set its own without touching the decorators."""
    return lambda: current_app.config[name]


def init_limiter(app: Flask) -> None:
    # One count for all the workers of this machine (memory:// would keep one per worker process, and multiply
    # every limit by their number); several machines share theirs in Redis or memcached instead.
    app.config.setdefault("RATELIMIT_STORAGE_URI",
                          os.environ.get("REGISTRY_RATELIMIT_STORAGE_URI") or default_storage_uri(app))
    # Set explicitly: the one Limiter object would otherwise carry one app's switch over to the next app.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # A dead Redis should slow nobody down: count in this process until it answers again.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # And should the fallback fail too (the counters' file unusable, its folder gone): the public pages
    # answer uncounted rather than with a 500 (tests/certificates/test_verify_views.py).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    for name, value in DEFAULT_LIMITS.items():
        app.config.setdefault(name, os.environ.get(f"REGISTRY_{name}") or value)
    limiter.init_app(app)
    app.register_error_handler(429, too_many_requests)


def spend(name: str, key: str, cost: int) -> bool:
    """Charge `cost` to every window of the limits configured under `name`, for `key` (fixed windows, in the
    limiter's own store); False when one of them is exhausted. Every window is charged either way, as the
    request limits charge a refused request too."""
    if cost <= 0 or not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    strategy = limiter.limiter
    items = parse_many(current_app.config[name])
    return all([strategy.hit(item, name.lower(), key, cost=cost) for item in items])


def charge_client(name: str, cost: int) -> None:
    """`spend` for the calling client's address; answers 429 (the handler below) once a window is spent."""
    if not spend(name, get_remote_address(), cost):
        abort(429)


def described(name: str) -> str:
    """The limits configured under `name` in words: "每小时 5000 个；每天 20000 个"."""
    words = []
    for item in parse_many(current_app.config[name]):
        unit = GRANULARITY_WORDS.get(item.GRANULARITY.name, item.GRANULARITY.name)
        every = f"每 {item.multiples} {unit}" if item.multiples > 1 else f"每{unit}"
        words.append(f"{every} {item.amount} 个")
    return "；".join(words)


def default_storage_uri(app: Flask) -> str:
    return f"sqlite:///{Path(app.config['INSTANCE_PATH']) / 'ratelimit.sqlite3'}"


def too_many_requests(error):
    message = "查询过于频繁：已超过每个网络地址的访问次数限制，请稍后再试。"
    if request.path.startswith("/api/"):
        return jsonify(error="rate_limited", message=message, details=[str(error.description)]), 429
    return render_template("errors.html", code=429, message=message), 429
