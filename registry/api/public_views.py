"""Public API calls that need no token: certificate verification by number, and the QR signing key.

They have a blueprint of their own so that their rate limits are declared on it: Flask-Limiter then resolves
and checks them in one pass before the view. With the limits as decorators on a view it ran its resolution
twice a request (before the request, then in the decorator), the costliest part of the public API's busiest
call (docs/BENCHMARKS.md, verify_api). Each route still counts on its own; the name checks share the
verification pages' count.
"""
from flask import Blueprint, Response, current_app, jsonify, request

from registry.api.errors import ApiError
from registry.certificates import rendering, verification
from registry.core import arguments
from registry.core.errors import InvalidInput
from registry.core.ratelimit import configured, limiter

bp = Blueprint("public_api", __name__)


def name_check_limits() -> str:
    """A name check confirms who holds a certificate: through the JSON endpoint too it spends the pages'
    budget (the same shared scope as the verification pages), so guessing names is no cheaper here than on
    /verify/<number>?name=. Without a name there is no such limit ("" is none) rather than an exempted one:
    Flask-Limiter resolves an exempted limit on every call, only to skip it."""
    return current_app.config["VERIFY_PAGE_LIMITS"] if (request.args.get("name") or "").strip() else ""


limiter.limit(configured("VERIFY_API_LIMITS"))(bp)
limiter.shared_limit(name_check_limits, scope="verify-pages")(bp)


@bp.get("/api/v1/certificates/<number>")
def verify_certificate(number: str):
    try:
        verdict = verification.verify_number(number, arguments.text("name", max_length=verification.NAME_LENGTH))
    except InvalidInput as error:
        raise ApiError(400, error.message, [{"field": "number", "message": error.message}],
                       code="invalid_number") from None
    if verdict.outcome == "not_found":
        raise ApiError(404, verification.OUTCOMES["not_found"])
    body = verdict.as_json()
    body["qr_signature_valid"] = verification.check_qr(rendering.verify_key(), verdict, request.args)
    return jsonify(body)


@bp.get("/api/v1/signing-key")
def signing_key():
    """The Ed25519 public key that checks the QR codes' signatures, as PEM (also at /certificates/public-key.pem)."""
    return Response(rendering.public_key_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})
