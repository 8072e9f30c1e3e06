"""The structure the code must keep, checked by reading the source (no import needed).

- Layers point one way: a domain package imports only packages below it in `LAYERS`, so there is
  no import cycle between domains, and `ingestion` (a library) never imports `app`.
- Tenant rows are read through repositories: a `select()` or `Session.get()` that names a tenant
  table appears only in a `repository.py`, where every read statement takes the auth subject.

Each check is also run on a small made-up module with a violation, so that a check which could
never fail would fail here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import app.models  # noqa: F401 - every table, so the metadata below is complete
from app.core.database import Base

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A package may import itself and the packages before it, never one after it.
LAYERS = [
    "app.core",
    "app.llm",
    "app.auth",
    "app.customers",
    "app.chatbots",
    "app.billing",
    "app.documents",
    "app.sources",
    "app.chat",
    "app.analytics",
    "app.widget",
    "app.dashboard",
    # the composition root: the app factory, the table registry, the health probe
    "app.health",
    "app.models",
    "app.main",
]
# Entry points of other processes are composition roots too: they load every table.
# The ingestion worker runs website crawls too.
ENTRY_POINTS = {
    "app.documents.celery_app": {
        "app.models",
        "app.sources.jobs",
        "app.sources.jobs.CRAWL_TASK",
        "app.sources.jobs.crawl_source",
    }
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` imports, at any depth (lazy imports inside functions count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def layer_of(module: str) -> int | None:
    for index, package in enumerate(LAYERS):
        if module == package or module.startswith(package + "."):
            return index
    return None


def layering_violations(module: str, imports: set[str]) -> list[str]:
    """Imports of `module` that point up the layers, or from the library into the app."""
    if module == "ingestion" or module.startswith("ingestion."):
        return [
            f"{module} imports {name}" for name in sorted(imports) if layer_of(name) is not None
        ]
    if module == "app":  # the namespace's empty __init__
        return []
    imports = imports - ENTRY_POINTS.get(module, set())
    own = layer_of(module)
    if own is None:
        return [f"{module} is in no layer: add its package to LAYERS"]
    return [
        f"{module} ({LAYERS[own]}) imports {name} ({LAYERS[layer]})"
        for name in sorted(imports)
        if (layer := layer_of(name)) is not None and layer > own
    ]


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_layers_point_one_way():
    problems = []
    for path in python_files("app", "ingestion"):
        module = module_name(path)
        imports = imported_modules(path.read_text(), module, path.name == "__init__.py")
        problems += layering_violations(module, imports)
    assert problems == []


def test_layer_check_catches_an_upward_import_and_a_library_import():
    # chat -> widget was a cycle once (widget imported chat back)
    assert layering_violations("app.chat.service", {"app.widget.service"})
    assert layering_violations("app.chatbots.service", {"app.documents.service"})
    assert layering_violations("ingestion.pipeline", {"app.core.config"})
    assert not layering_violations("app.chat.service", {"app.billing.service", "sqlalchemy"})
    lazy = "def f():\n    from app.documents.service import purge\n"
    assert "app.documents.service" in imported_modules(lazy, "app.chatbots.service")
    relative = "from .service import x\nfrom ..core import errors\n"
    assert {"app.chat.service", "app.core.errors"} <= imported_modules(relative, "app.chat.router")


# --- tenant reads ---------------------------------------------------------------------------


def tenant_models() -> set[str]:
    """Mapped classes whose rows belong to one customer (they carry `customer_id`), and the
    customer row itself."""
    names = {"Customer"}
    for mapper in Base.registry.mappers:
        if "customer_id" in mapper.columns:
            names.add(mapper.class_.__name__)
    return names


@dataclass(frozen=True)
class RawRead:
    line: int
    call: str
    model: str


def _names_in(node: ast.AST) -> set[str]:
    """The names an expression mentions: `Chatbot`, `Chatbot.name`, `func.sum(Usage.tokens)`."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def raw_tenant_reads(source: str, models: set[str]) -> list[RawRead]:
    """`select(...)`, `<session>.get(Model, ...)` and `<session>.query(Model)` naming a tenant
    model."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "select":
            call, args = "select", node.args
        elif isinstance(func, ast.Attribute) and func.attr in ("get", "query") and node.args:
            call, args = func.attr, node.args[:1]  # db.get(Model, id): the model comes first
        else:
            continue
        for model in sorted(set().union(*(_names_in(a) for a in args)) & models):
            found.append(RawRead(node.lineno, call, model))
    return found


def test_tenant_rows_are_read_only_through_repositories():
    models = tenant_models()
    assert {"Chatbot", "Document", "ChatMessage", "UsageRecord", "Invoice", "User"} <= models
    problems = [
        f"{path.relative_to(ROOT)}:{read.line}: {read.call}() of {read.model}"
        for path in python_files("app")
        if path.name != "repository.py"
        for read in raw_tenant_reads(path.read_text(), models)
    ]
    assert problems == [], "read tenant tables through a repository that takes the subject"


@pytest.mark.parametrize(
    "source",
    [
        "stmt = select(Chatbot).where(Chatbot.id == chatbot_id)",
        "rows = db.execute(select(func.sum(UsageRecord.input_tokens)))",
        "doc = db.get(Document, document_id)",
        "users = session.query(User).all()",
    ],
)
def test_scope_check_catches_a_raw_tenant_read(source):
    assert raw_tenant_reads(source, tenant_models())


def test_scope_check_lets_other_tables_and_dict_gets_pass():
    source = "plan = db.get(Plan, name)\nvalue = options.get('top_k', 4)\nselect(Plan.name)"
    assert raw_tenant_reads(source, tenant_models()) == []
