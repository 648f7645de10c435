import ast
import subprocess
import sys
from pathlib import Path

import agentcost_nb


def test_all_is_sorted_and_importable():
    assert agentcost_nb.__all__ == sorted(agentcost_nb.__all__, key=lambda n: (not n.isupper(), n))
    for name in agentcost_nb.__all__:
        assert getattr(agentcost_nb, name) is not None


def test_pure_core_imports_no_widget_or_chart_library():
    code = (
        "import sys, agentcost_nb, agentcost_nb.pricing, agentcost_nb.events, agentcost_nb.registry;"
        "bad = [m for m in ('ipywidgets', 'altair', 'IPython') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


PURE = {
    # module: third-party imports it may use
    "pricing": set(),
    "text": set(),
    "keys": set(),
    "billing": set(),
    "usage": set(),
    "registry": set(),
    "events": {"pyarrow"},
    "client/types": set(),
    "client/_wire": set(),
    "client/_sse": set(),
    "client/_stream": set(),
    "client/_auth": set(),
    "client/_retry": set(),
    "repricing": {"pandas"},
    "budgets": {"pyarrow"},
}
FRONT_ENDS = {"ipywidgets", "altair", "IPython", "httpx", "anywidget", "starlette", "a2a"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_pure_cores_import_no_io_widget_or_chart_library():
    root = Path(agentcost_nb.__file__).parent
    stdlib = set(sys.stdlib_module_names) | {"__future__", "agentcost_nb"}
    for module, allowed in PURE.items():
        third_party = _imports(root / f"{module}.py") - stdlib
        assert third_party <= allowed, (module, third_party - allowed)
    for module in ("analytics", "report", "compaction", "writer", "eventlog", "synthetic"):
        path = root / f"{module}.py"
        if path.exists():
            assert not (_imports(path) & FRONT_ENDS), module
