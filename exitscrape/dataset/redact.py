"""Secrets never reach the data dir: what a run writes there (run reports, manifests) is redacted.

Run reports, and through the scheduled workflow a public branch, record the settings a run used.
A setting whose name says it holds a credential (it contains PASS, SECRET, TOKEN, KEY or AUTH, in
any case: ``HTTPAUTH_PASS``, ``AWS_SECRET_ACCESS_KEY``, an ``Authorization`` header in
``DEFAULT_REQUEST_HEADERS``) keeps its name and loses its value; credentials inside a URL
(``http://user:password@proxy:3128``) lose their user and password, wherever the URL appears.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Parts of a name that mark its value as a secret (compared in upper case).
SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "KEY", "AUTH")
REDACTED = "<redacted>"
# scheme://userinfo@: the userinfo runs to the last "@" before the host's end.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]*(?:@[^\s/?#@]*)*@")


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def redact_urls(value: Any) -> Any:
    """*value* (a string, or lists and dicts of them) with credentials in URLs redacted."""
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", value)
    if isinstance(value, dict):
        return {key: redact_urls(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_urls(item) for item in value]
    return value


def redact_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """*settings* (name -> value) with the values of secret names redacted, also inside
    dict-valued settings (given as dicts or as JSON text, as ``-s`` passes them), and
    credentials in URLs redacted."""
    return {name: _redact_value(name, value) for name, value in settings.items()}


def _redact_value(name: str, value: Any) -> Any:
    if is_secret_name(name) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return json.dumps(redact_settings(parsed))
    if isinstance(value, dict):
        return redact_settings({str(key): item for key, item in value.items()})
    return redact_urls(value)
