"""Stand-in of functions-framework 3.10.2 (GoogleCloudPlatform/functions-framework-python).

Test infrastructure only: PyPI cannot be reached here, so the suite runs this model of
the framework's documented contract, on Debian's Flask. Each behaviour is a claim with
the line of src/functions_framework/ at commit d13d9aa (2026-06-17) that says so; the
list is in test/standins/README.md, "functions_framework/". What it leaves out: legacy
background events, typed and ASGI functions, gunicorn (it serves with werkzeug).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from typing import Any

import flask
import werkzeug.routing
from cloudevents.exceptions import InvalidRequiredFields, MissingRequiredFields
from cloudevents.http import CloudEvent, from_http

__all__ = ["CloudEventFunction", "HTTPFunction", "cloud_event", "create_app", "http"]

# __init__.py lines 56-57.
CloudEventFunction = Callable[[CloudEvent], None]
HTTPFunction = Callable[[flask.Request], Any]

# _function_registry.py lines 27-37: signature types, and the decorators' registry.
HTTP_SIGNATURE_TYPE = "http"
CLOUDEVENT_SIGNATURE_TYPE = "cloudevent"
REGISTRY_MAP: dict[str, str] = {}


def cloud_event(func: CloudEventFunction) -> CloudEventFunction:
    """__init__.py lines 73-83: registers FUNC's name as a CloudEvent function."""
    REGISTRY_MAP[func.__name__] = CLOUDEVENT_SIGNATURE_TYPE

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        return func(*args, **kwargs)

    return wrapper


def http(func: HTTPFunction) -> HTTPFunction:
    """__init__.py lines 113-123: registers FUNC's name as an HTTP function."""
    REGISTRY_MAP[func.__name__] = HTTP_SIGNATURE_TYPE

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


class MissingTargetException(Exception):
    pass


class InvalidConfigurationException(Exception):
    pass


def _load(source: str) -> types.ModuleType:
    """_function_registry.py lines 74-90: the file as a module named after it; its folder
    appended to sys.path, so that it imports what sits beside it."""
    realpath = os.path.realpath(source)
    directory, filename = os.path.split(realpath)
    name = os.path.splitext(filename)[0]
    spec = importlib.util.spec_from_file_location(name, realpath, submodule_search_locations=[directory])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.append(directory)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def create_app(target: str | None = None, source: str | None = None, signature_type: str | None = None) -> flask.Flask:
    """__init__.py lines 329-430, without the legacy and ASGI paths."""
    # _function_registry.py lines 101-110: --target or FUNCTION_TARGET, required.
    target = target or os.environ.get("FUNCTION_TARGET", "")
    if not target:
        raise InvalidConfigurationException("Target is not specified (FUNCTION_TARGET environment variable not set)")
    # Lines 27 and 93-98: --source or FUNCTION_SOURCE, else ./main.py.
    source = str(source or os.environ.get("FUNCTION_SOURCE", os.path.realpath("./main.py")))
    if not os.path.exists(source):
        raise MissingTargetException(f"File {source} that is expected to define function doesn't exist")
    module = _load(source)
    # Lines 48-71: the target must be a function of the module.
    function = getattr(module, target, None)
    if not isinstance(function, types.FunctionType):
        raise MissingTargetException(f"File {source} is expected to contain a function named '{target}'")
    # Lines 113-133: the decorator's type first, then --signature-type, then the environment, then http.
    kind = REGISTRY_MAP.get(target) or signature_type or os.environ.get("FUNCTION_SIGNATURE_TYPE", HTTP_SIGNATURE_TYPE)
    app = flask.Flask(target)
    # __init__.py lines 322-326 and 361: an exception answers 500 with its text and X-Google-Status: crash.
    app.register_error_handler(500, lambda e: (str(e), 500, {"X-Google-Status": "crash"}))
    if kind == HTTP_SIGNATURE_TYPE:
        # Lines 248-256: every method on / and /<path>; robots.txt and favicon.ico are 404.
        app.url_map.add(werkzeug.routing.Rule("/", defaults={"path": ""}, endpoint="run"))
        app.url_map.add(werkzeug.routing.Rule("/robots.txt", endpoint="error"))
        app.url_map.add(werkzeug.routing.Rule("/favicon.ico", endpoint="error"))
        app.url_map.add(werkzeug.routing.Rule("/<path:path>", endpoint="run"))
        # Lines 138-144: the view passes the request to the function; Flask makes its response.
        app.view_functions["run"] = lambda path: function(flask.request._get_current_object())  # type: ignore[attr-defined]
        app.view_functions["error"] = lambda: flask.abort(404, description="Not Found")
    elif kind == CLOUDEVENT_SIGNATURE_TYPE:
        # Lines 271-285: POST on / and /<path>.
        app.url_map.add(werkzeug.routing.Rule("/", defaults={"path": ""}, endpoint=kind, methods=["POST"]))
        app.url_map.add(werkzeug.routing.Rule("/<path:path>", endpoint=kind, methods=["POST"]))

        def view(path: str) -> str:
            # Lines 174-207: the request as a CloudEvent, the function called with it, "OK";
            # not a CloudEvent (and, here, no legacy event either): 400.
            try:
                event = from_http(flask.request.headers, flask.request.get_data())
            except (MissingRequiredFields, InvalidRequiredFields) as error:
                flask.abort(400, description=f"Function was defined with FUNCTION_SIGNATURE_TYPE=cloudevent but parsing CloudEvent failed: {error!r}")
            function(event)
            return "OK"

        app.view_functions[kind] = view
    else:
        raise InvalidConfigurationException(f"signature type {kind} is not modelled by this stand-in")
    return app
