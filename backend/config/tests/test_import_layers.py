"""The backend's imports run one way: no app imports one on a layer above it (docs/architecture.md, "Layers")."""
import ast
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2]

# Bottom first. Apps on one layer import each other neither.
LAYERS = [
    ("common",),
    ("health",),
    ("devices",),
    ("telemetry",),
    ("alerts",),
    ("notifications",),
    ("api",),
    ("config", "devtools"),
]
LAYER_OF = {app: number for number, apps in enumerate(LAYERS) for app in apps}


def imported_modules(tree: ast.AST):
    """(line, module) of every absolute import in the tree, at module level or inside a function."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def upward_imports(backend: Path) -> list[str]:
    """`file:line: app -> module` for each import of an app on the importer's layer or above, tests left out."""
    found = []
    for path in sorted(backend.rglob("*.py")):
        relative = path.relative_to(backend)
        importer = relative.parts[0]
        if importer not in LAYER_OF or "tests" in relative.parts:
            continue
        for line, module in imported_modules(ast.parse(path.read_text(), filename=str(path))):
            imported = module.split(".")[0]
            if imported != importer and imported in LAYER_OF and LAYER_OF[imported] >= LAYER_OF[importer]:
                found.append(f"{relative}:{line}: {importer} -> {module}")
    return found


def test_every_app_of_the_backend_is_on_a_layer():
    apps = {path.parent.name for path in BACKEND.glob("*/__init__.py")}
    assert apps == set(LAYER_OF)


def test_no_app_imports_one_on_its_layer_or_above():
    assert upward_imports(BACKEND) == []


def test_the_walk_finds_an_import_inside_a_function_and_one_on_the_same_layer(tmp_path):
    (tmp_path / "devices").mkdir()
    (tmp_path / "devices" / "admin.py").write_text("def export():\n    from telemetry.export import fleet_rows\n")
    (tmp_path / "devices" / "tests").mkdir()
    (tmp_path / "devices" / "tests" / "test_x.py").write_text("import api.views\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "urls.py").write_text("import devtools.broker\nfrom api.views import DeviceList\n")
    assert upward_imports(tmp_path) == [
        "config/urls.py:1: config -> devtools.broker",
        "devices/admin.py:2: devices -> telemetry.export",
    ]
