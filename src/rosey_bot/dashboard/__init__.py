"""rosey-dashboard (docs/DESIGN.md#dashboard): status, charts, alerts and deployments on one read-only page.

The Flask app is ``rosey_bot.dashboard.app.create_app``; importing this package does not load Flask,
so ``rosey-dashboard --export-config`` (run before every start) and ``--help`` start quickly.
"""
