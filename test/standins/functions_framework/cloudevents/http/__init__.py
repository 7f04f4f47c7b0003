"""cloudevents.http at 1.12.0 (cloudevents/http/__init__.py): CloudEvent, from_http, is_binary."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from cloudevents.exceptions import InvalidRequiredFields, MissingRequiredFields

__all__ = ["CloudEvent", "from_http", "is_binary"]

# sdk/event/v1.py and v03.py: the attributes each specversion requires.
_REQUIRED = {"1.0": {"id", "source", "type", "specversion"}, "0.3": {"id", "source", "type", "specversion"}}


class CloudEvent:
    """http/event.py lines 43-82: attributes (keys lower-cased) and data; specversion, id and
    time default; type and source are required."""

    def __init__(self, attributes: Mapping[str, Any], data: Any = None) -> None:
        self._attributes = {k.lower(): v for k, v in attributes.items()}
        self.data = data
        self._attributes.setdefault("specversion", "1.0")
        self._attributes.setdefault("id", str(uuid.uuid4()))
        self._attributes.setdefault("time", datetime.datetime.now(datetime.timezone.utc).isoformat())
        required = _REQUIRED.get(self._attributes["specversion"])
        if required is None:
            raise MissingRequiredFields(f"Invalid specversion: {self._attributes['specversion']}")
        if not required <= self._attributes.keys():
            raise MissingRequiredFields(f"Missing required keys: {required - self._attributes.keys()}")

    # abstract/event.py lines 52-123: attributes by key, .get, the data.
    def get_attributes(self) -> Mapping[str, Any]:
        return dict(self._attributes)

    def get_data(self) -> Any:
        return self.data

    def __getitem__(self, key: str) -> Any:
        return self._attributes[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._attributes.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self._attributes


def is_binary(headers: Mapping[str, str]) -> bool:
    """sdk/converters/util.py lines 18-29: binary mode has ce-specversion, ce-source, ce-type and ce-id."""
    lower = {k.lower() for k in headers}
    return {"ce-specversion", "ce-source", "ce-type", "ce-id"} <= lower


def _json_or_string(content: str | bytes) -> Any:
    """conversion.py lines 295-309: JSON when it parses, else the content as it came."""
    try:
        return json.loads(content)
    except (json.JSONDecodeError, TypeError, UnicodeDecodeError):
        return content


def from_http(headers: Mapping[str, str], data: str | bytes | None) -> CloudEvent:
    """conversion.py lines 92-180: binary mode from ce- headers (base.py lines 253-280), else a
    structured JSON body; an empty body is data None."""
    data = data or ""
    lower = {k.lower(): v for k, v in headers.items()}
    if is_binary(lower):
        attributes = {k[3:]: v for k, v in lower.items() if k.startswith("ce-")}
        if "content-type" in lower:
            attributes["datacontenttype"] = lower["content-type"]
        body = _json_or_string(data) if data else None
    else:
        try:
            raw = json.loads(data)
        except json.JSONDecodeError:
            raise MissingRequiredFields(
                f"Failed to read specversion from both headers and data. The following can not be parsed as json: {data!r}"
            ) from None
        if not isinstance(raw, dict):
            raise MissingRequiredFields(f"Failed to read specversion from both headers and data. The following deserialized data has no 'get' method: {raw}")
        body = raw.pop("data", None)
        attributes = raw
    if attributes.get("specversion") is None:
        raise MissingRequiredFields("Failed to find specversion in HTTP request")
    if attributes["specversion"] not in _REQUIRED:
        raise InvalidRequiredFields(f"Found invalid specversion {attributes['specversion']}")
    return CloudEvent(attributes, body)
