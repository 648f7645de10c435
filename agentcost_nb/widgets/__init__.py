"""ipywidgets front ends: thin layers over the pure cores; every action callable from code."""

from .agent_form import AgentForm
from .app import App
from .chat import ChatWidget
from .dashboard import Dashboard

__all__ = ["AgentForm", "App", "ChatWidget", "Dashboard"]
