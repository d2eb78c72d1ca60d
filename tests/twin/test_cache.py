"""The twin's informer stores: newest version wins, a delete is not undone by an older write's
answer, a fresh listing drops what it lacks, and the cached client reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.sandbox.twin.api import DEPLOY, MACHINE, ROUTE
from tests.sandbox.twin.cache import CachedApi, Store, matches


def obj(name: str, rv: int, ns: str = "ns", **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": str(rv), "labels": labels}}


def test_the_newest_version_wins_whatever_the_order_it_comes_in() -> None:
    s = Store()
    s.put(obj("a", 5))
    s.put(obj("a", 3))  # a write's answer that the watch already passed
    assert s.get(("ns", "a"))["metadata"]["resourceVersion"] == "5"  # type: ignore[index]
    s.put(obj("a", 7))
    assert s.get(("ns", "a"))["metadata"]["resourceVersion"] == "7"  # type: ignore[index]


def test_an_older_answer_after_the_delete_does_not_bring_the_object_back() -> None:
    s = Store()
    s.put(obj("a", 5))
    s.remove(obj("a", 8))  # the finalizer's removal deleted it at 8
    s.put(obj("a", 7))  # that patch's answer, read after the watch's DELETED event
    assert s.get(("ns", "a")) is None
    s.put(obj("a", 9))  # made again under the same name
    assert s.get(("ns", "a")) is not None


def test_a_fresh_listing_drops_what_it_lacks_unless_written_since() -> None:
    s = Store()
    s.put(obj("gone", 2))
    s.put(obj("written-after", 12))
    s.replace([obj("kept", 4)], rv=10)
    assert [o["metadata"]["name"] for o in s.list(None, None)] == ["kept", "written-after"]
    assert s.synced.is_set()


def test_reads_are_copies_and_filter_by_namespace_and_labels() -> None:
    s = Store()
    s.put(obj("a", 1, "x", app="etcd"))
    s.put(obj("b", 2, "x", app="kas"))
    s.put(obj("c", 3, "y", app="etcd"))
    assert [o["metadata"]["name"] for o in s.list("x", "app=etcd")] == ["a"]
    assert [o["metadata"]["name"] for o in s.list(None, "app=etcd")] == ["a", "c"]
    s.get(("x", "a"))["metadata"]["labels"]["app"] = "changed"  # type: ignore[index]
    assert s.get(("x", "a"))["metadata"]["labels"]["app"] == "etcd"  # type: ignore[index]
    assert matches(obj("a", 1, a="1", b="2"), "a=1,b=2") and not matches(obj("a", 1, a="1"), "a=1,b=2")


class Recorded(CachedApi):
    def __init__(self) -> None:
        super().__init__("https://127.0.0.1:1", Path("ca"), Path("crt"), Path("key"))
        self.calls: list[tuple[str, str]] = []
        self.rv = 100

    def _do(self, method: str, path: str, body: Any = None, ctype: str = "", **params: Any) -> Any:
        self.calls.append((method, path))
        self.rv += 1
        body = body or {}
        name = body.get("metadata", {}).get("name") or path.rsplit("/", 1)[1]  # POST names it in the body
        return {**body, "metadata": {**body.get("metadata", {}), "name": name, "namespace": "ns",
                                     "resourceVersion": str(self.rv)}}  # fmt: skip


def test_the_cached_client_reads_its_stores_and_sees_its_own_writes() -> None:
    api = Recorded()
    api.inform(DEPLOY).replace([obj("kas", 1)], rv=1)
    api.inform(ROUTE).replace([], rv=1)
    assert api.get(DEPLOY, "ns", "kas") is not None and api.calls == []
    assert api.create(DEPLOY, "ns", {"metadata": {"name": "kas"}}) is None and api.calls == []  # no POST for a 409
    api.patch(DEPLOY, "ns", "kas", {"metadata": {"labels": {"new": "1"}}})
    assert api.get(DEPLOY, "ns", "kas")["metadata"]["labels"] == {"new": "1"}  # type: ignore[index]
    api.create(ROUTE, "ns", {"metadata": {"name": "r"}})
    assert api.get(ROUTE, "ns", "r") is not None
    assert [m for m, _ in api.calls] == ["PATCH", "POST"]
    api.get(MACHINE, "ns", "m")  # a kind no one watches: the apiserver
    assert api.calls[-1] == ("GET", "/apis/cluster.x-k8s.io/v1beta2/namespaces/ns/machines/m")
