"""Units as operators read and write them: durations (`90`, `45m`, `6h`, `2d`, `1h30m`) in whole
seconds, sizes in binary units."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")


def parse_duration(text: str) -> int:
    """Seconds in `text`; a bare number is seconds. A sign is kept, so that the caller and
    not the parser decides what range is allowed (and says why)."""
    raw = text.strip().lower()
    sign = -1 if raw.startswith("-") else 1
    body = raw[1:] if raw[:1] in ("-", "+") else raw
    if body.isdigit():
        return sign * int(body)
    parts = _PART.findall(body)
    if not body or "".join(n + u for n, u in parts) != body:
        raise ValueError(f"{text!r} is not a duration: use seconds or a number with s, m, h or d (like 6h or 2d)")
    return sign * sum(int(n) * _UNITS[u] for n, u in parts)


def format_duration(seconds: float) -> str:
    """`6h`, `1h30m`, `45s`: the shortest exact spelling, for messages."""
    left = int(seconds)
    if left <= 0:
        return f"{left}s"
    out = ""
    for unit, size in sorted(_UNITS.items(), key=lambda u: -u[1]):
        if left >= size:
            out += f"{left // size}{unit}"
            left %= size
    return out


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"
