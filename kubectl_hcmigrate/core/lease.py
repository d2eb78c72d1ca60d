"""One run per hosted cluster: a `coordination.k8s.io/v1` Lease named for the HC in its
namespace, on every cluster a run changes. Held while the run lives (renewed by a background
thread), released at its end; a second run is refused, naming the holder and since when.

A lease whose holder stopped renewing is taken over once it expired; so is one whose holder ran
on this host under a pid that no longer exists (killed: provably dead, no need to wait).
"""

from __future__ import annotations

import _thread
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from kubectl_hcmigrate.core.pipeline import changed, interrupts_held
from kubectl_hcmigrate.core.ports import KubeError, KubePort, Reporter
from kubectl_hcmigrate.core.report import PreflightError, nothing_changed
from kubectl_hcmigrate.core.teardown_rules import leftovers
from kubectl_hcmigrate.core.wait import poll_until

Obj = dict[str, Any]
LEASE_SECONDS = 60
RENEW_SECONDS = 15.0
NAMESPACE_GONE_SECONDS = 60.0
_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"


def new_run_id() -> str:
    """Eight hex digits: part of the holder identity and of the backup id of this run."""
    return uuid.uuid4().hex[:8]


def lease_name(hc_name: str) -> str:
    return f"hcmigrate-{hc_name}"


def identity(run_id: str, host: str | None = None, pid: int | None = None) -> str:
    return f"{host or socket.gethostname()}/{pid if pid is not None else os.getpid()}/{run_id}"


def run_of(holder: str) -> str:
    return holder.rsplit("/", 1)[-1]


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    for fmt in (_MICRO, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def _stamp(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime(_MICRO)


def body(namespace: str, hc_name: str, holder: str, now: datetime, acquired: str | None = None) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": lease_name(hc_name), "namespace": namespace},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": acquired or _stamp(now),
            "renewTime": _stamp(now),
        },
    }


@dataclass(frozen=True)
class Holding:
    holder: str | None
    since: str | None
    renewed: datetime | None
    seconds: int

    @classmethod
    def of(cls, lease: Obj) -> Holding:
        spec = lease.get("spec") or {}
        renewed = _time(spec.get("renewTime")) or _time(spec.get("acquireTime"))
        return cls(
            spec.get("holderIdentity"), spec.get("acquireTime"), renewed, int(spec.get("leaseDurationSeconds") or 0)
        )

    def expired(self, now: datetime) -> bool:
        return self.renewed is None or now > self.renewed + timedelta(seconds=self.seconds)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_here(holder: str, host: str, alive: Callable[[int], bool] = pid_alive) -> bool:
    """A holder on this host whose process is gone: it cannot renew, and never will."""
    parts = holder.split("/")
    return len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not alive(int(parts[1]))


def takeover_reason(lease: Obj, now: datetime, host: str, alive: Callable[[int], bool] = pid_alive) -> str | None:
    """Why a lease someone holds may be taken over, or None: then the run is refused."""
    h = Holding.of(lease)
    if not h.holder:
        return "released"
    if h.expired(now):
        return f"expired (last renewed {_stamp(h.renewed)[:19]}Z)" if h.renewed else "expired"
    if dead_here(h.holder, host, alive):
        return "its process is gone"
    return None


def refusal(lease: Obj, where: str) -> PreflightError:
    h = Holding.of(lease)
    since = (h.since or "?")[:19] + "Z" if h.since else "an unknown time"
    return PreflightError(
        f"another hcmigrate run holds hosted cluster {where} (Lease {lease['metadata']['namespace']}/"
        f"{lease['metadata']['name']}: holder {h.holder}, since {since}): wait for it to end; nothing was changed"
    )


class Lease:
    """This run's lease on one cluster: acquire, renew, release."""

    def __init__(
        self, kube: KubePort, namespace: str, hc_name: str, holder: str, reporter: Reporter, *, create_ns: bool = False
    ) -> None:
        self.kube, self.ns, self.name, self.holder, self.reporter = (
            kube,
            namespace,
            lease_name(hc_name),
            holder,
            reporter,
        )
        self.hc_name, self.lost, self.create_ns, self.held = hc_name, False, create_ns, False
        self.created_ns = False  # this run created the namespace to hold the lease in
        self.where = f"{namespace}/{hc_name} on context '{kube.context}'"
        self._stop = threading.Event()
        self._acquired: str | None = None

    def acquire(self, now: datetime | None = None) -> None:
        """Takes the lease, or raises the refusal. Without the namespace on a cluster the run only
        reads (its preflight refuses: no HC there), unless the run creates it (restore does)."""
        now = now or datetime.now(timezone.utc)
        if self.kube.namespace(self.ns) is None:
            if not self.create_ns:
                return
            changed(f"create Namespace {self.ns} to hold the run's lease in")
            self.kube.create_namespace(self.ns)
            self.created_ns = True
        mine = body(self.ns, self.hc_name, self.holder, now)
        if self.kube.create_lease(self.ns, mine):
            self._acquired, self.held = mine["spec"]["acquireTime"], True
            return
        lease = self.kube.get_lease(self.ns, self.name)
        if lease is None:  # released between the two calls
            return self.acquire(now)
        why = takeover_reason(lease, now, socket.gethostname())
        if why is None:
            raise refusal(lease, self.where)
        mine["metadata"]["resourceVersion"] = lease["metadata"].get("resourceVersion")
        try:
            self.kube.replace_lease(self.ns, mine)
        except KubeError as e:
            if e.status == 409:  # someone else took it over first
                raise refusal(self.kube.get_lease(self.ns, self.name) or lease, self.where) from None
            raise
        self._acquired, self.held = mine["spec"]["acquireTime"], True
        previous = Holding.of(lease).holder
        if previous:
            self.reporter.line(f"took over the lease on {self.where} from {previous}: {why}")

    def renew(self, now: datetime | None = None) -> bool:
        """False once someone else holds it (or it is gone with its namespace)."""
        lease = self.kube.get_lease(self.ns, self.name)
        if lease is None or Holding.of(lease).holder != self.holder:
            return lease is None
        mine = body(self.ns, self.hc_name, self.holder, now or datetime.now(timezone.utc), self._acquired)
        mine["metadata"]["resourceVersion"] = lease["metadata"].get("resourceVersion")
        self.kube.replace_lease(self.ns, mine)
        return True

    def release(self) -> None:
        self._stop.set()
        if not self.held:
            return
        lease = self.kube.get_lease(self.ns, self.name)
        if lease is not None and Holding.of(lease).holder == self.holder:
            self.kube.delete_lease(self.ns, self.name, lease["metadata"].get("resourceVersion"))
        # Asked one type at a time, stopping at the first that holds something: a restore that
        # went on fills it, and listing all 71 types took 0.18-0.47 s of the run on a quiet sandbox.
        mine = {("Lease", self.name)}
        if self.created_ns and not any(leftovers(items, mine, None) for items in self.kube.namespace_listings(self.ns)):
            # The run ended before putting anything in it: gone as if never made (waited for, so
            # that "nothing changed" holds when the command returns).
            self.kube.delete_namespace(self.ns)
            poll_until(lambda: self.kube.namespace(self.ns) is None, NAMESPACE_GONE_SECONDS)

    def keep_renewing(self, every: float = RENEW_SECONDS) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    if not self.renew():
                        self.lost = True
                        self.reporter.line(f"error: another run took the lease on {self.where}: stopping")
                        _thread.interrupt_main()
                        return
                except Exception as e:  # a blip: the next renewal may work, and the lease lasts longer
                    self.reporter.line(f"warning: renewing the lease on {self.where} failed: {e}")

        thread = threading.Thread(target=loop, name=f"lease-{self.name}", daemon=True)
        thread.start()
        return thread


def check_free(kube: KubePort, namespace: str, hc_name: str) -> None:
    """For a dry run: refuses as the real run would, without taking anything."""
    lease = kube.get_lease(namespace, lease_name(hc_name)) if kube.namespace(namespace) else None
    if lease is not None and takeover_reason(lease, datetime.now(timezone.utc), socket.gethostname()) is None:
        raise refusal(lease, f"{namespace}/{hc_name} on context '{kube.context}'")


@contextmanager
def holding(
    kubes: Sequence[tuple[KubePort, bool]], namespace: str, hc_name: str, run_id: str, reporter: Reporter
) -> Iterator[list[Lease]]:
    """Holds the HC's lease on each cluster (with: may the run create the namespace there) for
    the block; released however the block ends. Once the block has ended well, its run is done:
    an interrupt during the release is said and held, not let turn it into a failure."""
    holder, leases = identity(run_id), []
    try:
        with nothing_changed():  # before any change of the run: a cluster that fails here is a refusal
            for kube, create_ns in kubes:
                lease = Lease(kube, namespace, hc_name, holder, reporter, create_ns=create_ns)
                leases.append(lease)
                lease.acquire()
                if lease.held:
                    lease.keep_renewing()
        yield leases
    except BaseException:
        _release(leases, reporter)
        raise
    with interrupts_held(reporter):
        _release(leases, reporter)


def _release(leases: list[Lease], reporter: Reporter) -> None:
    for lease in reversed(leases):
        try:
            lease.release()
        except Exception as e:  # expires on its own; the run's own outcome matters more
            reporter.line(f"warning: could not release the lease on {lease.where}: {e}")
