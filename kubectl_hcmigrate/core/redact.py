"""What may be shown of a presigned URL: scheme, host and path. Its query string is the
credential (signature, access key id, session token), so it never reaches output or logs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# A URL up to its query, and the query itself: stops at whitespace and at quoting characters,
# because API server messages quote the values they reject.
_QUERY = re.compile(r"""\b([a-z][a-z0-9+.-]*://[^\s?"'<>]+)\?[^\s"'<>]*""", re.IGNORECASE)


def safe_url(url: str) -> str:
    """`scheme://host[:port]/path`, without userinfo, query or fragment."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def scrub(text: str) -> str:
    """`text` with the query string of every URL in it cut off (a server may echo one back)."""
    return _QUERY.sub(r"\1?<redacted>", text)
