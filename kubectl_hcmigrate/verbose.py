"""`-v` / `--v=N`: request-level detail (each apiserver request, method and path) and, after a
failure, the traceback of its cause, for a bug report. Everything goes through one redacting
filter: a URL's query (presigned credentials), a bearer token, an AWS secret or session token
never reach the terminal. Only hcmigrate's own logger is turned up: botocore's and urllib3's
debug output carries signed headers, so they stay quiet."""

from __future__ import annotations

import logging
import re
import sys
import traceback

from kubectl_hcmigrate.core.redact import scrub

LOGGER = "hcmigrate"
_SECRET = re.compile(
    r"(?i)(bearer\s+|(?:token|password|secret|aws_secret_access_key|aws_session_token|signature)"
    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
)


def redact(text: str) -> str:
    return _SECRET.sub(r"\1<redacted>", scrub(text))


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def enable(level: int) -> None:
    """Level 1 and up (`-v`, `--v=1`...): hcmigrate's debug lines on stderr, timestamped."""
    if level < 1:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Redacting("%(asctime)s.%(msecs)03d %(message)s", "%Y-%m-%dT%H:%M:%S"))
    log = logging.getLogger(LOGGER)
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)


def enabled() -> bool:
    return logging.getLogger(LOGGER).isEnabledFor(logging.DEBUG)


def trace(exc: BaseException | None) -> None:
    """The traceback of a failure's cause, redacted, when -v asked for it."""
    if exc is not None and enabled():
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        sys.stderr.write(redact(text))
