"""What ``GET /api/health`` answers (docs/DESIGN.md#health-endpoint): the one list of its fields.

The health server builds its body from ``FIELDS`` and the dashboard shows
exactly ``FIELDS`` (a whitelist), so the two cannot drift apart; a test fails
if another list of them appears. A leaf: no imports, cheap for every caller.
"""

HEALTH_PATH = "/api/health"

# The flat fields, in the order the docs list them; each but ``status`` is a BotState snapshot attribute.
FIELDS = (
    "status",
    "connected",
    "channel",
    "uptime_seconds",
    "version",
    "user_count",
    "requests_handled",
    "error_count",
)
# Nested detail for operators and tests; the dashboard does not show it.
STORAGE = "storage"
