"""rosey-dashboard (docs/DESIGN.md#dashboard): status, charts, alerts and deployments on one read-only page."""

from .app import create_app

__all__ = ["create_app"]
