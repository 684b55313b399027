"""Fixtures shared across test directories, registered once for the whole suite.

A test module imports plain helpers from tests.support; fixtures reach it through these plugins, never by
importing another directory's conftest.py.
"""

pytest_plugins = ["tests.support.e2e_releases"]
