"""Tools for running the platform locally: a private broker, child processes."""
