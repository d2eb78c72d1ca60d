"""In-memory stand-ins for the ports, shared by the unit tests."""

from __future__ import annotations


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

    def namespace_contents(self, namespace: str) -> tuple[list[dict], list[str]]:
        leases = [lease for (ns, _), lease in self.leases.items() if ns == namespace]
        return [*leases, *self.contents.get(namespace, [])], []

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
