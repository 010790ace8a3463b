"""Fixtures shared by the backend's and the simulator's tests."""
pytest_plugins = ["devtools.pytest_plugin"]
