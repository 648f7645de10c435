"""The real notebooks, executed headless top to bottom against a temporary data home."""

from decimal import Decimal as D
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from agentcost_nb.registry import Registry
from agentcost_nb.tracker import Tracker

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(name: str, home: Path, monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("AGENTCOST_NB_HOME", str(home))
    monkeypatch.delenv("AGENTCOST_NB_DEMO_URL", raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(home)}}).execute()  # fmt: skip
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            out.append(o.get("text", ""))
            out.extend(str(v) for v in o.get("data", {}).values())
    return "\n".join(out)


@pytest.mark.slow
def test_app_notebook_runs_and_brings_up_the_demo_agents(tmp_path, monkeypatch):
    nb = _run("app.ipynb", tmp_path, monkeypatch)
    assert "application/vnd.jupyter.widget-view+json" in nb.cells[-1].outputs[0]["data"]
    names = {a.name for a in Registry(tmp_path / "agents.json")}
    assert {"echo", "summarizer", "translator"} <= names


@pytest.mark.slow
def test_analysis_notebook_reads_the_log_with_plain_pandas(demo_server, tmp_path, monkeypatch):
    tracker = Tracker(tmp_path)
    from agentcost_nb.demo_setup import register_demo_agents

    register_demo_agents(tracker.registry, demo_server.base_url)
    for _ in range(3):
        tracker.call_sync("echo", "hello")  # $0.01 flat each
    nb = _run("analysis.ipynb", tmp_path, monkeypatch)
    text = _text(nb)
    assert "3 events" in text
    assert "echo" in text and str(D("0.03")) in text
    assert "repriced_usd" in text and "(total)" in text


@pytest.mark.slow
def test_opened_from_notebooks_the_notebooks_use_the_projects_data_home(
    demo_server, tmp_path, monkeypatch
):
    # JupyterLab / nbconvert start the kernel in notebooks/, with no AGENTCOST_NB_HOME.
    project = tmp_path / "project"
    (project / "notebooks").mkdir(parents=True)
    tracker = Tracker(project / "agentcost-data")
    from agentcost_nb.demo_setup import register_demo_agents

    register_demo_agents(tracker.registry, demo_server.base_url)
    tracker.call_sync("echo", "hello")
    monkeypatch.delenv("AGENTCOST_NB_HOME", raising=False)
    monkeypatch.setenv("AGENTCOST_NB_DEMO_URL", demo_server.base_url)
    for name in ("analysis.ipynb", "app.ipynb"):
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        NotebookClient(nb, timeout=180, kernel_name="python3",
                       resources={"metadata": {"path": str(project / "notebooks")}}).execute()  # fmt: skip
        if name == "analysis.ipynb":
            assert "1 events" in _text(nb)
    assert not (project / "notebooks" / "agentcost-data").exists()  # no second, empty home
