"""Every result goes out through here: one versioned document per run (`apiVersion`, `kind`,
RFC 3339 start and finish), printed as JSON, YAML, or a short description a person reads in the
style of `kubectl describe`: aligned `Key: value` lines, sizes and durations in units, per-object
lists as counts per kind with a few examples, and the next step last.

A new verb or field needs nothing here unless it wants a label or a next step of its own: any
key and value are rendered by their shape (a `*_size` is bytes, a list of `Kind ns/name` is
counted per kind, a dict is a section)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TextIO

from kubectl_hcmigrate.core.options import OutputFormat
from kubectl_hcmigrate.core.units import human_bytes

API_VERSION = "hcmigrate.openshift.io/v1"
# Per-object lists show this many examples of each kind, and this many kinds.
EXAMPLES, KINDS, LINES = 2, 8, 5
# Fields the header or the footer already say, or only a program needs.
# `timeline` (each step's start and end) is for programs: Steps says the durations already.
# `next_steps`: the last line (`next: ...`) says them.
HIDDEN = {"apiVersion", "kind", "startTime", "completionTime", "dry_run", "where", "timeline", "next_steps"}
WORDS = {
    "hostedcluster": "HostedCluster",
    "id": "ID",
    "uid": "UID",
    "sha256": "SHA256",
    "url": "URL",
    "hcp": "HCP",
    "api": "API",
    "s3": "S3",
}
# `[step: ][verb ]Kind ns/name[: why]`: a per-object line of a result or a dry run.
OBJECT = re.compile(
    r"^(?:(?P<step>[a-z][^:]*): )?(?:(?P<verb>[a-z][a-z ]*?) )?(?P<kind>[A-Z][A-Za-z]+) (?P<name>[^\s:]+)"
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def step_id(name: str) -> str:
    """A step's stable id: its name in lowercase words joined by '-' (`etcd snapshot` -> `etcd-snapshot`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _steps(timings: dict[str, float]) -> list[dict[str, Any]]:
    return [{"id": step_id(k), "name": k, "seconds": v} for k, v in timings.items()]


def normalize(result: dict[str, Any]) -> dict[str, Any]:
    """Step timings as a list of `{id, name, seconds}`, in nested stages too (migrate)."""
    out: dict[str, Any] = {}
    for k, v in result.items():
        if k == "timings_seconds" and isinstance(v, dict):
            out["steps"] = _steps(v)
        elif isinstance(v, dict) and "outcome" in v:
            out[k] = normalize(v)
        else:
            out[k] = v
    return out


def document(kind: str, result: dict[str, Any], started: datetime, finished: datetime | None = None) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "startTime": rfc3339(started),
        "completionTime": rfc3339(finished or now()),
        **normalize(result),
    }


def show(doc: dict[str, Any], fmt: OutputFormat, stream: TextIO | None = None, *, next_step: str | None = None) -> None:
    out = stream or sys.stdout
    if fmt is OutputFormat.json:
        out.write(json.dumps(doc, indent=2) + "\n")
    elif fmt is OutputFormat.yaml:
        import yaml

        out.write(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
    else:
        out.write(describe(doc, next_step))


def duration(seconds: float) -> str:
    """`1m12s`, `2h0m5s`, `0.4s`: as kubectl prints ages, exact to the second past a minute."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    s = round(seconds)
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h}h{m}m{sec}s" if h else f"{m}m{sec}s" if m else f"{sec}s"


def label(key: str) -> str:
    words = [WORDS.get(w, w) for w in key.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def per_kind(items: list[str]) -> list[str]:
    """Per-object lines as one line per step, verb and kind, with a few examples:
    `create Machine: 1000 (clusters-example/m-0, clusters-example/m-1, ...)`; other lines as they are."""
    groups: dict[str, list[str]] = {}
    others: list[str] = []
    for item in items:
        m = OBJECT.match(item)
        if m is None:
            others.append(item)
            continue
        key = " ".join(p for p in (m["step"] and m["step"] + ":", m["verb"], m["kind"]) if p)
        groups.setdefault(key, []).append(m["name"])
    lines = []
    for key, names in list(groups.items())[:KINDS]:
        more = ", ..." if len(names) > EXAMPLES else ""
        lines.append(f"{key}: {len(names)} ({', '.join(names[:EXAMPLES])}{more})")
    if len(groups) > KINDS:
        lines.append(f"... and {len(groups) - KINDS} more kinds (-o json lists every object)")
    lines += others[:LINES]
    if len(others) > LINES:
        lines.append(f"... and {len(others) - LINES} more (-o json lists them all)")
    return lines


def _list(items: list[Any]) -> list[str]:
    # A record in a list is its values side by side, never a Python repr.
    texts = ["  ".join(str(v) for v in i.values()) if isinstance(i, dict) else str(i) for i in items]
    return per_kind(texts) if len(texts) > LINES else texts


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and (key.endswith("_size") or key.endswith("bytes")):
        return human_bytes(value)
    if isinstance(value, (int, float)) and key.endswith("seconds"):
        return duration(value)
    return str(value)


def _within(value: Any, above: Any) -> bool:
    return isinstance(value, list) and isinstance(above, list) and all(v in above for v in value)


def _section(doc: dict[str, Any], indent: str, parent: dict[str, Any] | None = None) -> list[str]:
    """`doc` as aligned rows; a nested section (a stage of migrate) leaves out what its parent
    said already and its steps' detail."""
    rows: list[tuple[str, str | None, list[str]]] = []  # label, value, lines under it
    for key, value in doc.items():
        if key in HIDDEN or value is None or value == [] or value == {}:
            continue
        if parent is not None and (parent.get(key) == value or _within(value, parent.get(key))):
            continue  # said above: a migration's warnings hold each stage's
        if key.startswith("objects_") and isinstance(doc.get(key.removeprefix("objects_")), list):
            continue  # the count of a list said below, or an empty one
        if key == "steps" and isinstance(value, list):
            width = max(len(s["name"]) for s in value) + 1
            steps = [f"{(s['name'] + ':').ljust(width)} {duration(s['seconds'])}" for s in value]
            rows.append((label(key), duration(sum(s["seconds"] for s in value)), [] if parent else steps))
        elif isinstance(value, dict):
            rows.append((label(key), None, _section(value, "", doc)))
        elif isinstance(value, list):
            rows.append((label(key), str(len(value)), _list(value)))
        else:  # `api_down_seconds: 76.8` reads `API down: 1m17s`
            rows.append((label(key.removesuffix("_seconds") or key), _value(key, value), []))
    width = max((len(lbl) for lbl, v, _ in rows if v is not None), default=0) + 1
    lines = []
    for lbl, v, under in rows:
        lines.append(f"{indent}{(lbl + ':').ljust(width)} {v}".rstrip() if v is not None else f"{indent}{lbl}:")
        lines.extend(f"{indent}  {u}" for u in under)
    return lines


def describe(doc: dict[str, Any], next_step: str | None = None) -> str:
    lines = _section(doc, "")
    if "startTime" in doc and "completionTime" in doc:
        started = datetime.strptime(doc["startTime"], "%Y-%m-%dT%H:%M:%SZ")
        took = datetime.strptime(doc["completionTime"], "%Y-%m-%dT%H:%M:%SZ") - started
        lines.append(f"Ran {doc['startTime']} for {duration(took.total_seconds())}")
    if next_step:
        lines.append(f"next: {next_step}")
    return "".join(line + "\n" for line in lines)


NextStep = Callable[[dict[str, Any], str], "str | None"]
