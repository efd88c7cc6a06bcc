"""Error responses shaped like the mocked API's own errors.

An unmatched request gets the status a real server would send (404 unknown path, 405 known
path with another method, 422 a body the endpoint cannot process) and a body in the API's
error shape, chosen in this order:

1. the service's ``error_body`` template (``{status}`` and ``{message}`` placeholders; a
   string that is exactly ``"{status}"`` becomes the number);
2. the shape of an error response recorded for the service (a 4xx/5xx JSON body with a
   message-like field, whose message and status are replaced);
3. ``{"error": {"code": <status>, "message": <message>}}``.

Messages are the plain HTTP reason phrases: nothing tells the agent the API is simulated.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from deploysim.snapshots import Service

__all__ = ["ErrorShaper"]

_MESSAGE_KEYS = ("message", "detail", "error_description", "msg", "description", "title")
_STATUS_KEYS = ("status", "code", "status_code", "statusCode")


def _fill(template: Any, status: int, message: str) -> Any:
    if isinstance(template, dict):
        return {k: _fill(v, status, message) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, status, message) for v in template]
    if isinstance(template, str):
        if template == "{status}":
            return status
        return template.replace("{status}", str(status)).replace("{message}", message)
    return template


def _templatize(body: Any, status: int) -> tuple[Any, bool]:
    """Replace the message and status of a recorded error body with placeholders."""
    if isinstance(body, list):
        out = [_templatize(v, status) for v in body]
        return [v for v, _ in out], any(found for _, found in out)
    if not isinstance(body, dict):
        return body, False
    found = False
    result: dict[str, Any] = {}
    for k, v in body.items():
        if k in _MESSAGE_KEYS and isinstance(v, str):
            result[k], found = "{message}", True
        elif k in _STATUS_KEYS and isinstance(v, int) and v == status:
            result[k] = "{status}"
        else:
            result[k], inner = _templatize(v, status)
            found = found or inner
    return result, found


def _recorded_template(service: Service) -> Any:
    for ex in service.exchanges:
        r = ex.response
        if r.status >= 400 and isinstance(r.json_body, dict | list):
            template, found = _templatize(r.json_body, r.status)
            if found:
                return template
    return None


class ErrorShaper:
    """Builds error bodies for one service (or for no service, with the default shape)."""

    def __init__(self, service: Service | None) -> None:
        template = None
        if service is not None:
            template = service.error_body or _recorded_template(service)
        self.template: Any = template or {"error": {"code": "{status}", "message": "{message}"}}

    def body(self, status: int, message: str | None = None) -> Any:
        """The error body for ``status``; the message defaults to the reason phrase."""
        return _fill(self.template, status, message or HTTPStatus(status).phrase)
