"""The floor plan holds: imports run one way through the layers of shared/design/STYLE.md point 4.

Every module under registry/ is parsed (imports inside functions too, relative and absolute) and mapped to its
area: the package under registry/ it sits in, or "app" for a top-level module (registry/app.py, cli.py,
server.py, gunicorn_config.py, __main__.py, housekeeping.py, demo*.py, transfer.py, __init__.py: they put
the areas together and may use any of them). The checker takes the sources as a dict so the test of the test
can feed it a made-up tree.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("core", "reference", "organizations", "accounts", "people", "training", "assessment", "certificates",
         "oversight", "lookup", "stats", "api", "app")
RANK = {area: rank for rank, area in enumerate(ORDER)}
APP_FACTORY = "registry.app"
API_PREFIX = "/api/v1"


def read_tree(root: Path = ROOT) -> dict[str, str]:
    """{"registry.x.y": source} for every module under root/registry."""
    sources = {}
    for path in sorted((root / "registry").rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        sources[".".join(parts)] = path.read_text(encoding="utf-8")
    return sources


def area_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK):
        area = parts[1]
        if area not in RANK:
            raise AssertionError(f"{module}: registry/{area}/ is no area of the layer order; add it to ORDER")
        return area
    return "app"


def is_views(module: str) -> bool:
    return module.rsplit(".", 1)[-1].endswith("views")


def imports_of(module: str, source: str, modules: set[str]) -> list[tuple[str, int, tuple[str, ...]]]:
    """(imported registry module, line, names taken from it) for every import anywhere in the module, once."""
    package = module if module in _packages(modules) else module.rsplit(".", 1)[0]
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault((alias.name, node.lineno), [])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                # `from registry.api import openapi` imports the module registry.api.openapi.
                submodule = f"{target}.{alias.name}"
                if submodule in modules:
                    found.setdefault((submodule, node.lineno), [])
                else:
                    found.setdefault((target, node.lineno), []).append(alias.name)
    return [(name, line, tuple(names)) for (name, line), names in found.items()
            if name == "registry" or name.startswith("registry.")]


def _packages(modules: set[str]) -> set[str]:
    return {name.rsplit(".", 1)[0] for name in modules if "." in name}


def api_routes(source: str) -> list[tuple[str, int]]:
    """(path, line) of every route decorator or add_url_rule whose path starts with /api/v1."""
    routes = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            path = node.args[0].value
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if isinstance(path, str) and path.startswith(API_PREFIX) and name in (
                    "route", "get", "post", "put", "patch", "delete", "add_url_rule"):
                routes.append((path, node.lineno))
        if isinstance(node, ast.keyword) and node.arg == "url_prefix" and isinstance(node.value, ast.Constant) \
                and str(node.value.value).startswith(API_PREFIX):
            routes.append((node.value.value, node.value.lineno))
    return routes


def violations(sources: dict[str, str]) -> dict[str, list[str]]:
    """Every breach of the layering, by kind."""
    modules = set(sources)
    found = {"core imports an area": [], "upward": [], "both ways": [], "api route outside api": [],
             "views imported": [], "modules import each other": []}
    edges: dict[tuple[str, str], list[str]] = {}
    module_edges: dict[tuple[str, str], str] = {}
    for module, source in sorted(sources.items()):
        importer = area_of(module)
        for target, line, names in imports_of(module, source, modules):
            imported = area_of(target)
            where = f"{module}:{line} imports {target}"
            module_edges.setdefault((module, target), where)
            if importer != imported:
                edges.setdefault((importer, imported), []).append(where)
                if importer == "core":
                    found["core imports an area"].append(where)
                elif RANK[imported] > RANK[importer]:
                    found["upward"].append(f"{where} ({importer} < {imported})")
            # A side module of the same area may take the blueprint (`bp`) to attach its routes; nothing more.
            if is_views(target) and target != module and module != APP_FACTORY \
                    and not (importer == imported and names == ("bp",)):
                found["views imported"].append(where)
        if not module.startswith("registry.api.") and module != "registry.api":
            found["api route outside api"] += [f"{module}:{line} {path}" for path, line in api_routes(source)]
    for low, high in sorted(edges):
        if RANK[low] < RANK[high] and (high, low) in edges:
            found["both ways"].append(f"{low} <-> {high}: {edges[low, high][0]}; {edges[high, low][0]}")
    # Within an area too: a circle of two modules (the app factory and the CLI, say) is one module in two files.
    for low, high in sorted(module_edges):
        if low < high and (high, low) in module_edges:
            found["modules import each other"].append(f"{module_edges[low, high]}; {module_edges[high, low]}")
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{kind} ({len(rows)}):\n  " + "\n  ".join(rows) for kind, rows in found.items() if rows)


def test_registry_imports_run_one_way():
    found = violations(read_tree())
    assert not any(found.values()), "the layers of STYLE.md point 4 are broken:\n" + report(found)


def test_every_area_package_is_in_the_order():
    packages = {path.name for path in (ROOT / "registry").iterdir() if (path / "__init__.py").exists()}
    assert packages <= set(ORDER), packages - set(ORDER)


# The test of the test: a small made-up tree with one breach of each kind, and the same tree without them.
CLEAN = {
    "registry": "",
    "registry.app": "from registry.certificates.views import bp\nfrom registry.api import public_views\n",
    "registry.core": "",
    "registry.core.db": "import sqlalchemy\n",
    "registry.people": "",
    "registry.people.models": "from registry.core.db import db\n",
    "registry.certificates": "",
    "registry.certificates.operations": "from ..people import models\nfrom registry.core import db\n",
    "registry.certificates.views": "from . import operations\nbp = Blueprint('certificates', __name__)\n",
    "registry.certificates.download_views": "from registry.certificates.views import bp\n",
    "registry.api": "",
    "registry.api.public_views": "from registry.certificates import operations\n@bp.get('/api/v1/ping')\n"
                                 "def ping(): ...\n",
}


def test_the_checker_passes_a_clean_tree():
    assert not any(violations(CLEAN).values()), report(violations(CLEAN))


@pytest.mark.parametrize(("module", "source", "kind", "expected"), [
    ("registry.people.models", "from registry.certificates import operations\n", "upward",
     "registry.people.models:1 imports registry.certificates.operations (people < certificates)"),
    ("registry.people.models", "def f():\n    from ..certificates.operations import x\n", "upward",
     "registry.people.models:2 imports registry.certificates.operations (people < certificates)"),
    ("registry.people.models", "import registry.api.public_views\n", "upward",
     "registry.people.models:1 imports registry.api.public_views (people < api)"),
    ("registry.core.db", "from registry.people.models import Person\n", "core imports an area",
     "registry.core.db:1 imports registry.people.models"),
    ("registry.core.db", "from registry.app import create_app\n", "core imports an area",
     "registry.core.db:1 imports registry.app"),
    ("registry.certificates.operations", "@bp.get('/api/v1/certificates/<n>')\ndef f(): ...\n",
     "api route outside api", "registry.certificates.operations:1 /api/v1/certificates/<n>"),
    ("registry.certificates.operations", "bp = Blueprint('x', __name__, url_prefix='/api/v1/x')\n",
     "api route outside api", "registry.certificates.operations:1 /api/v1/x"),
    ("registry.api.public_views", "from registry.certificates.views import bp\n", "views imported",
     "registry.api.public_views:1 imports registry.certificates.views"),
    ("registry.certificates.operations", "from registry.certificates import views\n", "views imported",
     "registry.certificates.operations:1 imports registry.certificates.views"),
    ("registry.certificates.download_views", "from registry.certificates.views import bp, helper\n",
     "views imported", "registry.certificates.download_views:1 imports registry.certificates.views"),
])
def test_the_checker_reports_each_kind_of_breach(module, source, kind, expected):
    tree = CLEAN | {module: source + CLEAN[module]}  # first, so the expected line numbers hold
    found = violations(tree)
    assert expected in found[kind], report(found)


def test_the_checker_reports_two_areas_importing_each_other():
    tree = CLEAN | {"registry.people.models": "from registry.certificates.operations import issue\n"}
    assert found_both(tree) == ["people <-> certificates: registry.people.models:1 imports "
                                "registry.certificates.operations; registry.certificates.operations:1 imports "
                                "registry.people.models"]


def found_both(tree):
    return violations(tree)["both ways"]


def test_the_checker_reports_two_modules_importing_each_other():
    tree = CLEAN | {"registry.cli": "def app():\n    from registry.app import create_app\n",
                    "registry.app": CLEAN["registry.app"] + "from registry.cli import commands\n"}
    assert violations(tree)["modules import each other"] == [
        "registry.app:3 imports registry.cli; registry.cli:2 imports registry.app"]


def test_an_added_upward_import_fails_the_real_tree():
    """What a developer adding `from registry.stats import …` to a training module would see."""
    tree = read_tree()
    tree["registry.training.models"] += "\nfrom registry.stats.models import Tally\n"
    found = violations(tree)
    assert any(row.startswith("registry.training.models:") for row in found["upward"]), report(found)
    assert any(found.values())
