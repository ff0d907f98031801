"""The `trainer` command, one module per command group (see main.py)."""
