"""The application factory, and the `registry` command group built on it."""
import importlib
import importlib.util
import logging

from flask import Flask, g, render_template, request, session as cookie_session
from flask.cli import FlaskGroup
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from registry.api.auth import user_from_token
from registry.cli import register_commands, serve_command, worker_command
from registry.core.arguments import MAX_ID, BadArgument, refuse_nul
from registry.core.audit import client_address
from registry.core.config import PROJECT_ROOT, load_config
from registry.core.db import configure_connections, db
from registry.core.ratelimit import init_limiter
from registry.core.security_headers import init_security_headers
from registry.core.tasks import init_tasks
from registry.stats.maintenance import init_totals
from registry.assessment.home import init_agency_home
from registry.stats.home import init_county_home
from registry.training.home import init_institution_home

# The layers, bottom to top (tests/test_layering.py holds the imports to this order).
AREAS = ("core", "reference", "organizations", "accounts", "people", "training", "assessment", "certificates",
         "oversight", "lookup", "stats", "api")
csrf = CSRFProtect()
migrate = Migrate(directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "warning"


class RowId(IntegerConverter):
    """`<int:…>` in a route: ids are 32-bit database integers, so a longer number names no row and is a 404,
    not an overflow in the database driver."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits, min, max, signed)


def create_app(config: dict | None = None) -> Flask:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = load_config() | (config or {})
    app = Flask(
        "registry",
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    configure_connections(settings)
    app.config.update(settings)
    app.json.ensure_ascii = False
    # First: its after_request hook then runs last, over whatever the other hooks made of the response.
    init_security_headers(app)
    app.url_map.converters["int"] = RowId  # before any route is added
    if proxies := app.config.get("PROXY_COUNT", 0):
        # Behind nginx the socket peer is the proxy: trust its X-Forwarded-* so the audit log sees the client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    _import_models()
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.request_loader(user_from_token)
    init_limiter(app)
    init_tasks(app)
    init_totals()
    init_institution_home()
    init_county_home()
    init_agency_home()
    _register_protection(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_error_pages(app)
    register_commands(app)
    return app


cli = FlaskGroup(create_app=create_app, add_default_commands=True, add_version_option=False,
                 help="开封市职业技能证书登记系统 — registry commands.")
# Found without loading the app: the server and the task worker build their own, in their own processes.
cli.add_command(serve_command)
cli.add_command(worker_command)


def main() -> None:
    """The `registry` command (setup.cfg) and `python -m registry`."""
    cli.main(prog_name="registry")


def _import_models() -> None:
    """Every table must be known to the metadata before Alembic compares it with the database: each area keeps
    its tables in its models.py."""
    for area in AREAS:
        if importlib.util.find_spec(f"registry.{area}.models") is not None:
            importlib.import_module(f"registry.{area}.models")


def _register_protection(app: Flask) -> None:
    from registry.people.protection import DocumentProtector

    app.extensions["document_protector"] = DocumentProtector(app.config["DATA_KEY"])


def _register_blueprints(app: Flask) -> None:
    from registry.accounts.views import bp as accounts_bp
    from registry.api import (  # noqa: F401  (they attach their routes to the API blueprint)
        assessment_views, bulk_check_views, openapi, stats_views, training_views,
    )
    from registry.api.public_views import bp as public_api_bp
    from registry.api.token_views import bp as tokens_bp
    from registry.api.views import bp as api_bp
    from registry.assessment import import_views as results_import_views  # noqa: F401  (results upload routes)
    from registry.assessment import special_views  # noqa: F401  (adds the 专项 batch form to assessment)
    from registry.assessment import eligibility_views  # noqa: F401  (adds the eligibility rules page)
    from registry.assessment.views import bp as assessment_bp
    from registry.certificates.verify_views import bp as verify_bp
    from registry.certificates import bulk_verify_views  # noqa: F401  (adds the bulk check page to verify)
    from registry.certificates import download_views  # noqa: F401  (adds the PDF routes to certificates)
    from registry.certificates import credential_views  # noqa: F401  (adds the credential routes to verify)
    from registry.certificates import import_views as history_import_views  # noqa: F401  (history import routes)
    from registry.certificates.share_views import bp as sharing_bp
    from registry.certificates.views import bp as certificates_bp
    from registry.core.import_views import bp as imports_bp
    from registry.core.views import bp as core_bp
    from registry.organizations.views import bp as organizations_bp
    from registry.oversight.views import bp as oversight_bp
    from registry.lookup import photo_views  # noqa: F401  (adds the photo routes to the people blueprint)
    from registry.lookup.views import bp as people_bp
    from registry.people.dashboard_views import bp as dashboard_bp
    from registry.reference import special_item_views  # noqa: F401  (adds the 专项 catalogue page to reference)
    from registry.reference.views import bp as reference_bp
    from registry.stats import drilldown_views  # noqa: F401  (adds the drill-down and funnel routes to stats)
    from registry.stats import target_views  # noqa: F401  (adds the county targets form to stats)
    from registry.stats import figures_views  # noqa: F401  (adds the public figures page to stats)
    from registry.stats import kinds_views  # noqa: F401  (adds the counted kinds page to stats)
    from registry.stats.views import bp as stats_bp
    from registry.training import import_views  # noqa: F401  (adds the upload routes to the training blueprint)
    from registry.training.views import bp as training_bp

    for blueprint in (core_bp, dashboard_bp, accounts_bp, organizations_bp, reference_bp, people_bp, training_bp, assessment_bp,
                      certificates_bp, sharing_bp, oversight_bp, imports_bp, stats_bp, tokens_bp):
        app.register_blueprint(blueprint)
    # Public and stateless: no session to ride on, and an upload is read once and never kept.
    csrf.exempt(verify_bp)
    app.register_blueprint(verify_bp)
    # Programs authenticate with a token they send, not a cookie a browser adds: no CSRF to guard against
    # (registry/api/auth.py refuses writes that come with only a browser session).
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(public_api_bp)  # GET only: CSRF protection never applies


def _register_request_hooks(app: Flask) -> None:
    from registry.accounts import sessions
    from registry.accounts.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # The cookie alone is not enough: its session must still exist on the server (accounts/sessions.py).
        return sessions.signed_in_user(user_id, cookie_session.get(sessions.COOKIE_KEY))

    @app.before_request
    def remember_client_address() -> None:
        client_address.set(request.remote_addr)

    @app.before_request
    def forget_cached_user() -> None:
        # Flask-Login keeps the user it loaded in `g`, which lives as long as the application context. Requests
        # that share one (the test clients inside a test's context) would otherwise skip the session and token
        # checks and act as whoever was loaded first.
        g.pop("_login_user", None)

    app.before_request(refuse_nul)

    @app.context_processor
    def navigation():
        from registry.core.navigation import menu_for

        return {"menu_for": menu_for}

    from registry.core.formatting import chinese_date, number

    app.add_template_filter(number)
    app.add_template_filter(chinese_date)


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: "请求有误。",
        403: "您没有权限访问此页面。",
        404: "页面不存在，或不在您的管理范围内。",
        413: "上传的文件太大。",
        500: "服务器内部错误，请稍后再试。",
        503: "系统繁忙：数据正被其他操作写入，请稍后几秒再试。",
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if isinstance(error, CSRFError):
            return render_template("errors.html", code=400, message="表单已过期或缺少安全令牌（CSRF），请刷新页面后重试。"), 400
        if code == 500:
            db.session.rollback()
        # A refused query parameter says which one and why (registry/core/arguments.py).
        message = error.description if isinstance(error, BadArgument) else messages.get(code, "请求无法完成。")
        return render_template("errors.html", code=code, message=message), code

    from registry.api.errors import register_api_errors

    for code in messages:
        app.register_error_handler(code, render_error)
    register_api_errors(app, render_error)  # JSON for /api/ paths, these pages elsewhere
    app.register_error_handler(CSRFError, render_error)
