"""rosey-bot's Python distribution, packaged two ways from this one file.

The venv flavour (package rosey-bot, debian/) wraps it in a dh-virtualenv with
pinned dependencies; the Debian-native flavour (package rosey-bot-native,
stdeb.cfg) installs it beside bookworm's own python3-* libraries.

Runtime dependencies are pinned, with hashes, in requirements.txt (generated
from requirements.in); install_requires names them loosely so a development
install resolves the same set.
"""

from setuptools import find_packages, setup

setup(
    name="rosey-bot",
    # The Debian version (from the git tag) is stamped into the venv at build
    # time; see rosey_bot/version.py. This one only names the Python dist.
    version="0",
    description="CyTube chat bot shipped as a Debian package",
    # stdeb turns this into the native package's Description (it needs one).
    long_description=(
        "rosey-bot joins a CyTube channel, answers chat commands, logs chat and\n"
        "media changes to SQLite and reports its health on /api/health and\n"
        "Prometheus metrics on /api/metrics.\n"
    ),
    package_dir={"": "src"},
    packages=find_packages("src"),
    include_package_data=True,
    package_data={"rosey_bot": ["dashboard/static/*", "dashboard/templates/*"]},
    python_requires=">=3.11",
    install_requires=["flask", "waitress", "prometheus-client", "requests", "websockets>=10.4"],
    entry_points={
        "console_scripts": [
            "rosey-bot = rosey_bot.cli:main",
            "rosey-healthcheck = rosey_bot.healthcheck:main",
            "rosey-report = rosey_bot.report:main",
            "rosey-dashboard = rosey_bot.dashboard.cli:main",
        ]
    },
)
