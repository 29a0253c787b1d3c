"""Secrets in settings and URLs are redacted from what is written under the data dir."""

from __future__ import annotations

import json

from exitscrape.dataset.redact import REDACTED, redact_settings, redact_urls


def test_settings_named_like_secrets_lose_their_values() -> None:
    settings = {
        "HTTPAUTH_PASS": "hunter2",
        "HTTPAUTH_USER": "me",
        "aws_secret_access_key": "AKIA-secret",
        "API_TOKEN": "t0k3n",
        "DOWNLOAD_DELAY": 1.0,
        "EMPTY_PASSWORD": "",
        "DEFAULT_REQUEST_HEADERS": {"Authorization": "Bearer b34r3r", "Accept": "text/html"},
        "HEADERS_AS_JSON": '{"X-Api-Key": "k3y", "Accept": "*/*"}',
        "PROXY": "http://user:pa@ss@proxy.example:3128/x",
    }
    redacted = redact_settings(settings)
    dumped = json.dumps(redacted)
    for secret in ("hunter2", "me", "AKIA-secret", "t0k3n", "b34r3r", "k3y", "pa@ss", "user:"):
        assert secret not in dumped, secret
    assert redacted["HTTPAUTH_PASS"] == REDACTED and redacted["DOWNLOAD_DELAY"] == 1.0
    assert redacted["EMPTY_PASSWORD"] == ""  # that none was set is no secret
    assert redacted["DEFAULT_REQUEST_HEADERS"]["Accept"] == "text/html"
    assert json.loads(redacted["HEADERS_AS_JSON"])["Accept"] == "*/*"
    assert redacted["PROXY"] == f"http://{REDACTED}@proxy.example:3128/x"


def test_credentials_in_urls_are_redacted_wherever_they_are() -> None:
    report = {
        "reason": "TunnelError: http://u:p4ss@10.0.0.1:8080 refused; see https://site/a@b",
        "list": ["socks5://tok3n@h:1/", "http://plain/path"],
    }
    redacted = redact_urls(report)
    assert redacted["reason"] == (
        f"TunnelError: http://{REDACTED}@10.0.0.1:8080 refused; see https://site/a@b"
    )
    assert redacted["list"] == [f"socks5://{REDACTED}@h:1/", "http://plain/path"]
