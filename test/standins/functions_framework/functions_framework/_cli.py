"""_cli.py lines 23-48: the functions-framework command (click), served here by werkzeug."""

from __future__ import annotations

import click

from functions_framework import create_app


@click.command()
@click.option("--target", envvar="FUNCTION_TARGET", type=click.STRING, required=True)
@click.option("--source", envvar="FUNCTION_SOURCE", type=click.Path(), default=None)
@click.option(
    "--signature-type",
    envvar="FUNCTION_SIGNATURE_TYPE",
    type=click.Choice(["http", "event", "cloudevent", "typed"]),
    default="http",
)
@click.option("--host", envvar="HOST", type=click.STRING, default="0.0.0.0")
@click.option("--port", envvar="PORT", type=click.INT, default=8080)
@click.option("--debug", envvar="DEBUG", is_flag=True)
def _cli(target: str, source: str | None, signature_type: str, host: str, port: int, debug: bool) -> None:
    app = create_app(target, source, signature_type)
    # _http/__init__.py lines 26-34 pick gunicorn unless --debug; werkzeug serves both here.
    app.run(host, port, debug=False, use_reloader=False)
