"""What every answer tells the browser: the Content-Security-Policy and its companions, and Secure cookies
whenever the request came over HTTPS.

One policy for every response — pages, JSON, errors, static files, downloads — so no path is forgotten.
A view that truly needs another policy sets the header itself; the hook only fills in what is missing.
"""
from flask import Flask, Response, has_request_context, request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    # Script only from our own files (static/js/): no inline <script>, no onclick=…, no javascript: URLs.
    # A name that slips past escaping into a page then still cannot run.
    "script-src 'self'",
    # Styles only from static/registry.css. The cockpit's server-drawn SVG charts and the progress bars
    # colour and size themselves with SVG attributes (fill, width), which the policy does not treat as
    # inline style, so they need no 'unsafe-inline' either.
    "style-src 'self'",
    # data: for the holder photo, which the photo page embeds as a data: URL.
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # frame-ancestors for current browsers, X-Frame-Options for the older ones still found on office desks.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Addresses here carry person ids, certificate numbers and search terms (names, ID numbers): no other
    # site learns even our origin. Same-origin requests keep the full Referer, which Flask-WTF's CSRF check
    # requires on HTTPS.
    "Referrer-Policy": "same-origin",
}


class SecureOverHttpsResponse(Response):
    """Every cookie set on a response to an HTTPS request is marked Secure: the session cookie, Flask-Login's
    remember cookie and any added later, without REGISTRY_SECURE_COOKIES. Behind nginx, ProxyFix (with
    REGISTRY_PROXY_COUNT) makes request.is_secure follow the client's scheme; without a configured proxy a
    client cannot claim HTTPS with a forged X-Forwarded-Proto."""

    def set_cookie(self, key: str, value: str = "", max_age=None, expires=None, path: str | None = "/",
                   domain: str | None = None, secure: bool = False, httponly: bool = False,
                   samesite: str | None = None, partitioned: bool = False) -> None:
        secure = secure or (has_request_context() and request.is_secure)
        super().set_cookie(key, value, max_age=max_age, expires=expires, path=path, domain=domain,
                           secure=secure, httponly=httponly, samesite=samesite, partitioned=partitioned)


def init_security_headers(app: Flask) -> None:
    app.response_class = SecureOverHttpsResponse

    @app.after_request
    def protect(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
