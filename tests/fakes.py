"""In-memory stand-ins for the ports, shared by the unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


class NullReporter:
    """A Reporter that says nothing."""

    def step(self, name: str) -> None:
        pass

    def line(self, text: str) -> None:
        pass

    def progress(self, label: str, done: int, total: int | None) -> None:
        pass

    def progress_done(self, label: str, done: int, seconds: float) -> None:
        pass

    def status(self, text: str, *, new: bool) -> None:
        if new:
            self.line(text)

    def count(self, label: str, done: int, total: int) -> None:
        pass


class LinesReporter(NullReporter):
    """A Reporter that keeps the lines it is told."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)


class LeaseKube:
    """Leases in memory, as the apiserver keeps them: a resourceVersion that moves on each
    write, 409 on a create over an existing one or a write with a stale version."""

    def __init__(self, context: str = "mgmt-1", namespaces: tuple[str, ...] = ("clusters",)) -> None:
        self.context, self.role = context, "source"
        self.namespaces, self.leases, self.writes, self._rv = set(namespaces), {}, [], 0
        self.contents: dict[str, list[dict]] = {}  # what else each namespace holds
        self.types_listed = 0

    def _version(self, lease: dict) -> dict:
        import copy

        self._rv += 1
        lease = copy.deepcopy(lease)
        lease["metadata"]["resourceVersion"] = str(self._rv)
        return lease

    def namespace(self, name: str) -> dict | None:
        return {"metadata": {"name": name}} if name in self.namespaces else None

    def create_namespace(self, name: str) -> None:
        self.writes.append(f"create namespace {name}")
        self.namespaces.add(name)

    def delete_namespace(self, name: str) -> bool:
        self.writes.append(f"delete namespace {name}")
        self.namespaces.discard(name)
        return True

    def namespace_listings(self, namespace: str, failed: list[str] | None = None) -> Iterator[list[dict]]:
        """Leases first, then each object of `contents` as a type of its own; counts the types listed."""
        leases = [lease for (ns, _), lease in self.leases.items() if ns == namespace]
        for items in (leases, *([o] for o in self.contents.get(namespace, []))):
            self.types_listed += 1
            yield items

    def get_lease(self, namespace: str, name: str) -> dict | None:
        import copy

        return copy.deepcopy(self.leases.get((namespace, name)))

    def create_lease(self, namespace: str, lease: dict) -> bool:
        key = (namespace, lease["metadata"]["name"])
        if key in self.leases:
            return False
        self.writes.append(f"create lease {key[1]}")
        self.leases[key] = self._version(lease)
        return True

    def replace_lease(self, namespace: str, lease: dict) -> dict:
        from kubectl_hcmigrate.core.ports import KubeError

        key = (namespace, lease["metadata"]["name"])
        if key not in self.leases or self.leases[key]["metadata"]["resourceVersion"] != lease["metadata"].get(
            "resourceVersion"
        ):
            raise KubeError(409, "Conflict", "the object has been modified")
        self.writes.append(f"replace lease {key[1]}")
        self.leases[key] = self._version(lease)
        return self.leases[key]

    def delete_lease(self, namespace: str, name: str, resource_version: str | None) -> bool:
        from kubectl_hcmigrate.core.ports import KubeError

        lease = self.leases.get((namespace, name))
        if lease is None:
            return False
        if resource_version and lease["metadata"]["resourceVersion"] != resource_version:
            raise KubeError(409, "Conflict", "precondition failed")
        self.writes.append(f"delete lease {name}")
        del self.leases[(namespace, name)]
        return True


class PodKube:
    """Pods of one namespace and their containers' logs, as a kubelet reports them: `logs` maps
    (pod, previous) to the text `kubectl logs [--previous]` gives; a missing entry is a 400, as
    the apiserver answers for a container with no such run."""

    def __init__(self, pods: list[dict], logs: dict[tuple[str, bool], str], context: str = "mgmt-2") -> None:
        self.context, self.role = context, "destination"
        self.items, self.logs, self.log_reads = pods, logs, []

    def pods(self, namespace: str, selector: str = "") -> list[dict]:
        return self.items

    def pod_log(self, namespace: str, pod: str, container: str, *, previous: bool = False, tail: int = 20) -> str:
        from kubectl_hcmigrate.core.ports import KubeError

        self.log_reads.append((pod, container, previous))
        if (pod, previous) not in self.logs:
            raise KubeError(400, "BadRequest", f'previous terminated container "{container}" in pod "{pod}" not found')
        return self.logs[pod, previous]


# -- the exec websocket ---------------------------------------------------------------------


def encoded(opcode: int, payload: bytes, fin: bool = True, mask: bool = False) -> bytes:
    """One websocket frame as a server writes it (RFC 6455, section 5.2)."""
    n = len(payload)
    if n < 126:
        length = bytes([n])
    else:
        length = bytes([126]) + n.to_bytes(2, "big") if n < 1 << 16 else bytes([127]) + n.to_bytes(8, "big")
    masked = bytes([length[0] | 0x80]) + length[1:] + b"\0\0\0\0" if mask else length
    return bytes([(0x80 if fin else 0) | opcode]) + masked + payload


class Wire:
    """The connection's socket: the frames' bytes, then `error`, or a closed connection (`eof`), or a
    test failure past their end."""

    def __init__(self, data: bytes, error: Exception | None = None, *, eof: bool = False) -> None:
        self.data, self.error, self.eof, self.consumed = data, error, eof, 0

    def recv_into(self, buffer: memoryview, nbytes: int = 0, /) -> int:
        if self.consumed == len(self.data):
            if self.eof:
                return 0
            if self.error:
                raise self.error
            raise AssertionError("read past the end of the stream")
        chunk = self.data[self.consumed : self.consumed + min(nbytes or len(buffer), 16384)]
        buffer[: len(chunk)] = chunk
        self.consumed += len(chunk)
        return len(chunk)


class FakeSocket:
    """websocket.WebSocket as the exec reader uses it; `frames` are encoded()'s arguments."""

    def __init__(self, frames: list[tuple[Any, ...]], error: Exception | None = None) -> None:
        self.sock = Wire(b"".join(encoded(*f) for f in frames), error)
        self.closed = False
        self.pongs: list[bytes] = []

    def ping(self) -> None:
        pass

    def pong(self, payload: bytes) -> None:
        self.pongs.append(payload)

    def send_close(self) -> None:
        pass

    def shutdown(self) -> None:
        self.closed = True
