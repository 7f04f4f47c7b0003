"""__main__.py: python -m functions_framework."""

from functions_framework._cli import _cli

_cli(prog_name="python -m functions_framework")
