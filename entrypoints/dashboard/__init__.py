"""The dashboard: server-rendered pages over the same use cases as the API."""

from entrypoints.dashboard.plugin import DashboardPlugin

__all__ = ["DashboardPlugin"]
