"""The structure the code must keep, checked by reading the source (no import needed).

- Layers point one way: a domain package imports only packages of the levels below it in
  `LAYERS`, never a sibling of its own level, so there is no import cycle between domains,
  siblings stay independent, and `ingestion` (a library) never imports `app`.
- The application's long-lived parts are declared dependencies: only the app factory and
  `app/core/deps.py` touch `app.state`.
- Tenant tables are reached through repositories: a statement that names a tenant table, in any
  spelling (ORM or Core, select/update/delete/insert, `text()`, any import name), appears only in
  a `repository.py`, whose methods take the auth subject, except the listed `@system` ones.

Each check is also run on a small made-up module with a violation, so that a check which could
never fail would fail here.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import app.models  # noqa: F401 - every table, so the metadata below is complete
from app.core.database import Base

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A package may import itself and the packages of the levels before it; never one
# of a later level, nor a sibling of its own level: siblings are independent of each other (mail
# knows nothing of the LLM, chat nothing of website sources), so either can change alone.
LAYERS: list[tuple[str, ...]] = [
    ("app.core",),
    ("app.llm", "app.mail"),
    ("app.auth",),
    ("app.customers", "app.chatbots"),
    ("app.billing",),
    ("app.documents",),
    ("app.sources", "app.chat"),
    ("app.analytics", "app.widget"),
    ("app.account", "app.dashboard"),
    # the composition roots: the health probe and the table registry, then the app factory and
    # the ingestion worker's Celery app
    ("app.health", "app.models"),
    ("app.main", "app.worker"),
]


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


def layer_of(module: str) -> tuple[int, str] | None:
    """The level of `module`'s package in `LAYERS`, and that package."""
    for level, packages in enumerate(LAYERS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return level, package
    return None


def layering_violations(module: str, imports: set[str]) -> list[str]:
    """Imports of `module` that point up the layers or sideways to a sibling package, or from
    the library into the app."""
    if module == "ingestion" or module.startswith("ingestion."):
        return [
            f"{module} imports {name}" for name in sorted(imports) if layer_of(name) is not None
        ]
    if module == "app":  # the namespace's empty __init__
        return []
    own = layer_of(module)
    if own is None:
        return [f"{module} is in no layer: add its package to LAYERS"]
    problems = []
    for name in sorted(imports):
        if (other := layer_of(name)) is None or other[1] == own[1] or other[0] < own[0]:
            continue
        way = "a sibling" if other[0] == own[0] else "a later level"
        problems.append(f"{module} ({own[1]}) imports {name} ({other[1]}, {way})")
    return problems


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
    # siblings: neither may import the other
    assert layering_violations("app.chat.service", {"app.sources.service"})
    assert layering_violations("app.mail.outbox", {"app.llm.base"})
    assert layering_violations("ingestion.pipeline", {"app.core.config"})
    assert not layering_violations("app.chat.service", {"app.billing.service", "sqlalchemy"})
    lazy = "def f():\n    from app.documents.service import purge\n"
    assert "app.documents.service" in imported_modules(lazy, "app.chatbots.service")
    relative = "from .service import x\nfrom ..core import errors\n"
    assert {"app.chat.service", "app.core.errors"} <= imported_modules(relative, "app.chat.router")


# --- tenant statements -------------------------------------------------------------------


def tenant_models() -> set[str]:
    """Mapped classes whose rows belong to one customer (they carry `customer_id`), and the
    customer row itself."""
    names = {"Customer"}
    for mapper in Base.registry.mappers:
        if "customer_id" in mapper.columns:
            names.add(mapper.class_.__name__)
    return names


def tenant_tables() -> set[str]:
    return {
        mapper.class_.__tablename__
        for mapper in Base.registry.mappers
        if mapper.class_.__name__ in tenant_models()
    }


# SQLAlchemy's statement builders: one naming a tenant table outside a repository is a bypass
BUILDERS = {
    "select", "update", "delete", "insert", "text", "aliased", "exists", "union", "union_all",
    "literal_column", "table", "join", "outerjoin", "lambda_stmt", "values",
}  # fmt: skip
# a session's methods that take a model, or a statement as a string
SESSION_ENTITY_METHODS = {"get", "get_one", "query", "merge"}
SESSION_SQL_METHODS = {"execute", "scalar", "scalars", "exec_driver_sql"}
SESSION_NAMES = {"db", "session", "conn", "connection"}


@dataclass(frozen=True)
class RawStatement:
    line: int
    call: str
    target: str


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> what it is: `sa` -> `sqlalchemy`, `s` -> `sqlalchemy.select`."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`sa.sql.select` -> `sqlalchemy.sql.select`, through the module's imports."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([aliases.get(node.id, node.id), *reversed(parts)])


def _mentions(node: ast.AST, models: set[str], tables: set[str]) -> set[str]:
    """The tenant models an expression names, and the tenant tables its strings name."""
    found = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} & models
    for constant in ast.walk(node):
        if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
            words = set(re.findall(r"[A-Za-z_]+", constant.value.lower()))
            found |= words & tables
    return found


def _receiver(func: ast.Attribute) -> str | None:
    value = func.value
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Attribute):
        return value.attr
    return None


def raw_tenant_statements(source: str, models: set[str], tables: set[str]) -> list[RawStatement]:
    """Every statement on a tenant table, whatever its spelling: SQLAlchemy's builders under any
    import name (`select`, `sa.select`, `select as s`, `update`, `delete`, `insert`, `text`,
    `aliased`, ...), `Model.__table__`, and a session's `get`/`query` of a model (or of a
    variable, which could hold one) or `execute` of SQL text."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "__table__"
            and isinstance(node.value, ast.Name)
            and node.value.id in models
        ):
            found.append(RawStatement(node.lineno, "__table__", node.value.id))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = _dotted(func, aliases) or ""
        args = [*node.args, *(k.value for k in node.keywords)]
        # a builder's bare name counts even when the snippet does not show its import
        if (name.startswith("sqlalchemy") or name in BUILDERS) and name.rsplit(".", 1)[
            -1
        ] in BUILDERS:
            call = name.rsplit(".", 1)[-1]
            found += [
                RawStatement(node.lineno, call, target)
                for arg in args
                for target in sorted(_mentions(arg, models, tables))
            ]
        elif isinstance(func, ast.Attribute) and _receiver(func) in SESSION_NAMES:
            if func.attr in SESSION_ENTITY_METHODS and node.args:
                first = node.args[0]
                named = _mentions(first, models, set())
                unknown = isinstance(first, ast.Name) and first.id[:1].islower()
                for target in sorted(named) or (["a model in a variable"] if unknown else []):
                    found.append(RawStatement(node.lineno, func.attr, target))
            elif func.attr in SESSION_SQL_METHODS and node.args:
                found += [
                    RawStatement(node.lineno, func.attr, target)
                    for target in sorted(_mentions(node.args[0], set(), tables))
                ]
    return found


def _outside_repositories() -> list[Path]:
    return [p for p in python_files("app", "scripts") if p.name != "repository.py"]


def test_tenant_tables_are_reached_only_through_repositories():
    models, tables = tenant_models(), tenant_tables()
    assert {"Chatbot", "Document", "ChatMessage", "UsageRecord", "Invoice", "User"} <= models
    assert {"documents", "chat_messages", "usage_totals"} <= tables
    problems = [
        f"{path.relative_to(ROOT)}:{found.line}: {found.call} of {found.target}"
        for path in _outside_repositories()
        for found in raw_tenant_statements(path.read_text(), models, tables)
    ]
    assert problems == [], "reach tenant tables through a repository that takes the subject"


@pytest.mark.parametrize(
    "source",
    [
        "stmt = select(Chatbot).where(Chatbot.id == chatbot_id)",
        "rows = db.execute(select(func.sum(UsageRecord.input_tokens)))",
        "doc = db.get(Document, document_id)",
        "users = session.query(User).all()",
        # the spellings the first version of this check missed (issue 22)
        "import sqlalchemy as sa\nstmt = sa.select(Chatbot)",
        "from sqlalchemy import select as pick\nstmt = pick(Document.id)",
        "stmt = Document.__table__.select()",
        "from sqlalchemy import text\ndb.execute(text('SELECT * FROM documents'))",
        "db.execute(text(f'DELETE FROM chat_messages WHERE id = {i}'))",
        "from sqlalchemy import update\ndb.execute(update(Document).values(status='ready'))",
        "from sqlalchemy import delete\ndb.execute(delete(ChatMessage))",
        "from sqlalchemy import insert\ndb.execute(insert(UsageRecord), rows)",
        "from sqlalchemy.orm import aliased\nother = aliased(Chatbot)",
        "model = Document\nrow = db.get(model, document_id)",
        "db.exec_driver_sql('UPDATE usage_totals SET queries = 0')",
        "from sqlalchemy import table\nt = table('invoices')",
    ],
)
def test_scope_check_catches_a_raw_tenant_statement(source):
    assert raw_tenant_statements(source, tenant_models(), tenant_tables()), source


def test_scope_check_lets_other_tables_and_dict_gets_pass():
    source = (
        "from sqlalchemy import select, text\n"
        "plan = db.get(Plan, name)\nvalue = options.get('top_k', 4)\nselect(Plan.name)\n"
        "db.execute(text('SELECT 1'))\nsettings.get(key, default)\n"
    )
    assert raw_tenant_statements(source, tenant_models(), tenant_tables()) == []


# --- repository methods without a subject -----------------------------------------------------

# Every repository method that works without the subject, and why: a job that has only an id,
# a sign-in that has only an email or a key. A new one must be added here, with `@system`.
SYSTEM_METHODS = {
    "app/auth/repository.py": {"UserRepository.by_email", "UserRepository.email_taken",
                               "UserRepository.token_holder", "AccountTokenRepository.usable"},
    "app/chatbots/repository.py": {"ChatbotRepository.customer_of",
                                   "ChatbotRepository.allowed_origins",
                                   "ApiKeyRepository.by_hash", "ApiKeyRepository.touch"},
    "app/customers/repository.py": {"CustomerRepository.all_ids", "InvitationRepository.by_token",
                                    "InvitationRepository.accept"},
    "app/mail/repository.py": {"OutboxRepository.claim_due", "OutboxRepository.sent",
                               "OutboxRepository.failed"},
    "app/documents/repository.py": {"DocumentRepository.for_job", "DocumentRepository.set_for_job",
                                    "DocumentRepository.still_exists",
                                    "DocumentRepository.unfinished",
                                    "DocumentRepository.without_lexical_index",
                                    "DocumentRepository.queued_of_customer",
                                    "DocumentRepository.count_unfinished",
                                    "ChunkRepository.replace", "ChunkRepository.add_if_none"},
    "app/sources/repository.py": {"WebsiteSourceRepository.for_job",
                                  "WebsiteSourceRepository.unfinished"},
}  # fmt: skip
SUBJECT_TYPES = {"AuthSubject", "UserSubject", "KeySubject", "OperatorSubject"}


def unscoped_methods(source: str) -> tuple[set[str], set[str]]:
    """(public methods of the module's classes that take no subject, those marked `@system`)"""
    unscoped, marked = set(), set()
    for cls in ast.parse(source).body:
        if not isinstance(cls, ast.ClassDef) or not cls.name.endswith("Repository"):
            continue
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef) or method.name.startswith("_"):
                continue
            name = f"{cls.name}.{method.name}"
            annotations = {ast.unparse(a.annotation) for a in method.args.args if a.annotation}
            if not annotations & SUBJECT_TYPES:
                unscoped.add(name)
            decorators = [ast.unparse(d) for d in method.decorator_list]
            if any(d.startswith("system(") for d in decorators):
                marked.add(name)
    return unscoped, marked


def test_repository_methods_without_a_subject_are_the_listed_system_ones():
    problems = []
    repositories = [p for p in python_files("app") if p.name == "repository.py"]
    for path in repositories:
        relative = str(path.relative_to(ROOT))
        unscoped, marked = unscoped_methods(path.read_text())
        listed = SYSTEM_METHODS.get(relative, set())
        problems += [
            f"{relative}: {m} takes no subject and is not listed" for m in unscoped - listed
        ]
        problems += [f"{relative}: {m} is listed but takes a subject" for m in listed - unscoped]
        problems += [f"{relative}: {m} is not marked @system" for m in unscoped - marked]
        problems += [f"{relative}: {m} is marked @system, not listed" for m in marked - listed]
    missing = set(SYSTEM_METHODS) - {str(p.relative_to(ROOT)) for p in repositories}
    assert problems == [] and not missing, problems or missing


def test_the_system_method_check_catches_an_unlisted_unscoped_method():
    source = (
        "class DocumentRepository(TenantRepository[Document]):\n"
        "    def by_name(self, name: str): ...\n"
        "    def mine(self, subject: AuthSubject, name: str): ...\n"
        "    @system('a job')\n"
        "    def for_job(self, document_id: uuid.UUID): ...\n"
    )
    unscoped, marked = unscoped_methods(source)
    assert unscoped == {"DocumentRepository.by_name", "DocumentRepository.for_job"}
    assert marked == {"DocumentRepository.for_job"}


# --- no import cycles, inside packages too ----------------------------------------------------


def import_graph(folders: tuple[str, ...] = ("app", "ingestion")) -> dict[str, set[str]]:
    """Each module of the tree and the modules of the tree it imports (a name imported from a
    module counts as that module; `importlib.import_module("x")` with a literal counts too)."""
    paths = python_files(*folders)
    modules = {module_name(path): path for path in paths}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        source = path.read_text()
        names = imported_modules(source, module, path.name == "__init__.py")
        names |= set(re.findall(r"import_module\(\s*[\"']([\w.]+)[\"']", source))
        targets = set()
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def is_face(source: str) -> bool:
    """An `__init__.py` that only hands names on: imports and `__all__`, nothing defined."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else []
        if not (len(targets) == 1 and getattr(targets[0], "id", None) == "__all__"):
            return False
    return True


def test_no_module_imports_itself_back():
    """A package's face (an `__init__.py` that defines nothing and hands its modules' names on)
    is where a module's `from app.llm import Usage` arrives, not a loop of the code: faces are
    left out. Every other cycle, inside a package or across packages, fails."""
    graph = import_graph()
    faces = {
        m
        for m in graph
        if (init := ROOT / m.replace(".", "/") / "__init__.py").exists()
        and is_face(init.read_text())
    }
    graph = {m: t - faces for m, t in graph.items() if m not in faces}
    assert cycles(graph) == []


def test_the_cycle_check_catches_a_loop_inside_a_package():
    graph = {
        "ingestion.loaders": {"ingestion.manpages"},
        "ingestion.manpages": {"ingestion.loaders"},
    }
    assert cycles(graph) == [["ingestion.loaders", "ingestion.manpages"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert is_face('"""doc"""\nfrom x import y\n__all__ = ["y"]\n')
    assert not is_face("from x import y\nLIMIT = 3\n")


# --- functions a reader can hold in mind ----------------------------------------------------

MAX_FUNCTION_LINES = 60
# the app factory wires every part in one place, in the order they depend on each other
LONG_FUNCTIONS_ALLOWED = {"app/main.py:create_app"}


def long_functions(source: str, where: str) -> list[str]:
    """`where:name (n lines)` of each function or method over MAX_FUNCTION_LINES, docstring
    included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and f"{where}:{node.name}" not in LONG_FUNCTIONS_ALLOWED:
                found.append(f"{where}:{node.name} ({lines} lines)")
    return found


def test_no_function_is_over_60_lines():
    problems = []
    for path in python_files("app", "ingestion"):
        problems += long_functions(path.read_text(), str(path.relative_to(ROOT)))
    assert problems == []


def test_the_length_check_catches_a_long_function():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}", "app/x.py") == ["app/x.py:f (61 lines)"]
    assert long_functions(f"def create_app():\n{body}", "app/main.py") == []


# --- declared dependencies ----------------------------------------------------------------

STATE_ALLOWED = {"app/main.py", "app/core/deps.py"}


def state_lookups(source: str) -> list[int]:
    """The lines where `source` reads or writes an `app.state` attribute (`request.app.state.x`,
    `app.state`, `scope["app"].state` and the like all end in `.app.state` or `app.state`)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr == "state"
        and (
            (isinstance(node.value, ast.Attribute) and node.value.attr == "app")
            or (isinstance(node.value, ast.Name) and node.value.id == "app")
        )
    ]


def test_app_state_is_touched_only_by_the_factory_and_the_dependency_module():
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in python_files("app", "ingestion")
        if str(path.relative_to(ROOT)) not in STATE_ALLOWED
        for line in state_lookups(path.read_text())
    }
    assert found == set(), "declare the part as a dependency (app/core/deps.py) instead"


def test_the_state_check_catches_a_lookup():
    assert state_lookups("def f(request):\n    return request.app.state.rag\n") == [2]
    assert state_lookups("def f(app):\n    app.state.x = 1\n") == [2]
    assert state_lookups("def f(settings: AppSettings):\n    return settings.state\n") == []
