"""Public API calls that need no token: certificate verification by number, and the QR signing key."""
from flask import Response, jsonify, request

from registry.api.errors import ApiError
from registry.api.views import bp
from registry.certificates import rendering, verification
from registry.core import arguments
from registry.core.errors import InvalidInput
from registry.core.ratelimit import configured, limiter

api = limiter.limit(configured("VERIFY_API_LIMITS"))
# A name check confirms who holds a certificate: through the JSON endpoint too it spends the pages' budget
# (the same shared scope as the verification pages), so guessing names is no cheaper here than on
# /verify/<number>?name=.
name_checks = limiter.shared_limit(configured("VERIFY_PAGE_LIMITS"), scope="verify-pages",
                                   exempt_when=lambda: not (request.args.get("name") or "").strip())


@bp.get("/api/v1/certificates/<number>")
@api
@name_checks
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
@api
def signing_key():
    """The Ed25519 public key that checks the QR codes' signatures, as PEM (also at /certificates/public-key.pem)."""
    return Response(rendering.public_key_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})
