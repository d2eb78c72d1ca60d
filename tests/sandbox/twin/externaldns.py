"""ExternalDNS of one management cluster (T16, T21), with its own `--txt-owner-id`.

It registers the host of every Route (not the internal ones) and the hostname annotation of
every LoadBalancer Service, with an owner TXT record beside each; it deletes the records it owns
whose Route or Service went away; a record another owner holds is never taken over while that
owner's TXT record is there (upstream's 1 h TXT cache makes it worse: the twin is kinder and
takes a freed name within a second). It syncs at once when a Route or Service changes (its
watches) and at the twin's resync; it asks for no sync of its own sooner than upstream's
`--interval=1m`, except while it waits for another owner to free a name: then every second, a
freed name being nothing it watches. Polling every second whatever the state kept the cloud twin
busy 10-25% of a core on an idle sandbox. Each create and delete is appended to a JSON-lines log
(`--dns-log`) with its time and owner, so that a test can order them against the clusters' events.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from tests.sandbox.twin.api import ROUTE, SERVICE, Api, Obj

log = logging.getLogger("twin.externaldns")
HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"
INTERNAL = "hypershift.openshift.io/internal-route"
OWNER_ARG = "--txt-owner-id="
INTERVAL, WAITING = 60.0, 1.0  # seconds between syncs: upstream's --interval; waiting for a freed name


def zone_of(host: str) -> str:
    return host.partition(".")[2]


def wanted(api: Api) -> dict[str, str]:
    """host -> the resource that asks for it (`route/<ns>/<name>`, `service/<ns>/<name>`)."""
    out = {}
    for r in api.list(ROUTE):
        host = (r.get("spec") or {}).get("host")
        if host and INTERNAL not in (r["metadata"].get("labels") or {}):
            out[host] = f"route/{r['metadata']['namespace']}/{r['metadata']['name']}"
    for s in api.list(SERVICE):
        if (s.get("spec") or {}).get("type") != "LoadBalancer":
            continue
        for host in filter(None, ((s["metadata"].get("annotations") or {}).get(HOSTNAME) or "").split(",")):
            out[host.strip()] = f"service/{s['metadata']['namespace']}/{s['metadata']['name']}"
    return out


class ExternalDns:
    def __init__(self, api: Api, cloud: Any, owner: str, events: Path | None) -> None:
        self.api, self.cloud, self.owner, self.events = api, cloud, owner, events
        self.refused: set[str] = set()  # hosts already logged as held by another owner

    def event(self, action: str, host: str, **extra: str) -> None:
        log.info("%s %s (owner %s)", action, host, self.owner)
        if self.events is not None:
            line = json.dumps({"time": time.time(), "owner": self.owner, "action": action, "host": host, **extra})
            with self.events.open("a") as f:  # one short line per write: appends from both twins stay whole
                f.write(line + "\n")

    def reconcile(self) -> float:
        """Seconds until the next sync."""
        want = wanted(self.api)
        zones = {zone_of(h) for h in want} | set(self.cloud.zones())
        owners = {h: o for z in zones for h, o in self.cloud.owners(z).items()}
        records = {h for z in zones for h in self.cloud.records(z)}
        for host, resource in want.items():
            owner = owners.get(host)
            if owner == self.owner and host in records:
                continue
            if owner not in (None, self.owner) or (owner is None and host in records):
                if host not in self.refused:
                    self.event("refused", host, held_by=owner or "no owner")
                    self.refused.add(host)
                continue
            self.cloud.claim(zone_of(host), host, f"router-{self.owner}.elb.amazonaws.com", self.owner, resource)
            self.refused.discard(host)
            self.event("create", host, resource=resource)
        for host, owner in owners.items():
            if owner == self.owner and host not in want:
                self.cloud.release(zone_of(host), host)
                self.event("delete", host)
        self.refused &= want.keys()  # a name no Route or Service asks for any more is not waited for
        return WAITING if self.refused else INTERVAL


def owner_of(deployment: Obj) -> str | None:
    """The `--txt-owner-id` an external-dns Deployment runs with."""
    for c in deployment["spec"]["template"]["spec"].get("containers") or []:
        for arg in c.get("args") or []:
            if arg.startswith(OWNER_ARG):
                return str(arg[len(OWNER_ARG) :])
    return None
