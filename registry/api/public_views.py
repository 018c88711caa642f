"""Public API calls that need no token; certificate verification itself lives with the certificates."""
from flask import Response

from registry.api.views import bp
from registry.certificates import rendering
from registry.core.ratelimit import configured, limiter


@bp.get("/api/v1/signing-key")
@limiter.limit(configured("VERIFY_API_LIMITS"))
def signing_key():
    """The Ed25519 public key that checks the QR codes' signatures, as PEM (also at /certificates/public-key.pem)."""
    return Response(rendering.public_key_pem(), mimetype="application/x-pem-file",
                    headers={"Cache-Control": "public, max-age=3600"})
