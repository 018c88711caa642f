"""Public routes of verifiable credentials (可验证电子证书): the holder's download from the verify page, the
status lists and the issuer's profile. No login; rate-limited like the other verify pages.

Who may download a credential: whoever opens the verify page through the certificate's printed QR code
(its signed fields are the proof of holding the certificate, as for the PDF's verify flow), and the
agency, county or administrator from the certificate's page (registry/certificates/download_views.py).
A number typed by hand is not enough: the credential carries the holder's full name.
"""
from flask import Response, abort, jsonify, request

from registry.certificates import credential, credential_files, verification
from registry.certificates.rendering import verify_key
from registry.certificates.verify_views import bp
from registry.core.arguments import MAX_ID
from registry.core.errors import InvalidInput
from registry.core.ratelimit import configured, limiter

# The verify pages' own shared limit (same scope): a visitor's credential downloads count against it too.
pages = limiter.shared_limit(configured("VERIFY_PAGE_LIMITS"), scope="verify-pages")


@bp.get("/verify/<number>/credential.jwt")
@pages
def holder_credential(number: str):
    try:
        verdict = verification.verify_number(number)
    except InvalidInput:
        abort(404)
    if verification.check_qr(verify_key(), verdict, request.args) is not True:
        abort(404)  # no proof of holding the certificate: say nothing more than a wrong address would
    if not credential_files.can_hold_credential(verdict.certificate):
        abort(404)
    return credential_response(credential_files.credential_for(verdict.certificate), verdict.number)


def credential_response(token: str, number: str) -> Response:
    # The holder's full name is inside: no shared cache may keep it.
    return Response(token, mimetype=credential.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{number}.vc.jwt"', "Cache-Control": "no-store"})


@bp.get("/credentials/status/<int:list_number>")
@pages
def status_list(list_number: int):
    """Public: a verifier fetches it to see revocations; short caching so a revocation shows within minutes."""
    if list_number * credential.LIST_SIZE > MAX_ID:
        abort(404)
    return Response(credential_files.status_list_for(list_number), mimetype=credential.MEDIA_TYPE,
                    headers={"Cache-Control": "public, max-age=300"})


@bp.get("/credentials/issuer")
@pages
def issuer():
    response = jsonify(credential_files.issuer_profile())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
