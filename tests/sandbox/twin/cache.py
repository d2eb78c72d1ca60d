"""The twin's reads from its watches, as controller-runtime's client reads from its informers.

Every watched kind has a store filled by its list-then-watch; `get` and `list` of that kind read
the store, and `create` of an object the store already holds is answered there (the operators'
create-or-update reads its cache first, so a running HostedCluster does not cost a POST per
component per resync). Writes go to the apiserver and their answers go into the store (a newer
version only), so a reconcile reads what it just wrote, as the operators do with the object a
write returns. Kinds no one watches read the apiserver, as the operators' uncached readers do.

Before the cache, an idle sandbox's twins cost their apiservers 6.5 CPU-s a minute against 2.7
without the twins, and etcd 3.2 against 1.7 (every read was a quorum read)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

from tests.sandbox.twin.api import Api, ApiError, Obj, Res

Key = tuple[str, str]  # (namespace, name)


def key(o: Obj) -> Key:
    return o["metadata"].get("namespace", ""), o["metadata"]["name"]


def _rv(o: Obj) -> int:
    return int(o["metadata"].get("resourceVersion") or 0)


def matches(o: Obj, selector: str | None) -> bool:
    """Equality-based label selectors (`k=v,k2=v2`), the only kind the twin uses."""
    labels = o["metadata"].get("labels") or {}
    for term in filter(None, (selector or "").split(",")):
        k, _, v = term.partition("=")
        if labels.get(k.strip()) != v.strip():
            return False
    return True


class Store:
    """One kind's objects by key, newest version wins; a deleted key keeps the version it was
    deleted at, so that a write's older answer arriving after the delete does not bring it back."""

    def __init__(self) -> None:
        self._objs: dict[Key, Obj] = {}
        self._gone: dict[Key, int] = {}
        self._lock = threading.Lock()
        self.synced = threading.Event()

    def put(self, o: Obj) -> None:
        k, rv = key(o), _rv(o)
        with self._lock:
            old = self._objs.get(k)
            if (old is not None and _rv(old) > rv) or self._gone.get(k, -1) >= rv:
                return
            self._objs[k] = o
            self._gone.pop(k, None)

    def remove(self, o: Obj) -> None:
        k, rv = key(o), _rv(o)
        with self._lock:
            old = self._objs.get(k)
            if old is not None and _rv(old) > rv:
                return
            self._objs.pop(k, None)
            self._gone[k] = rv

    def replace(self, items: Iterable[Obj], rv: int) -> None:
        """A fresh listing at version `rv`: what it lacks is gone unless written since."""
        listed = {key(o): o for o in items}
        with self._lock:
            for k, old in list(self._objs.items()):
                if k not in listed and _rv(old) <= rv:
                    del self._objs[k]
                    self._gone[k] = rv
        for o in listed.values():
            self.put(o)
        self.synced.set()

    def __contains__(self, k: Key) -> bool:
        with self._lock:
            return k in self._objs

    def get(self, k: Key) -> Obj | None:
        with self._lock:
            o = self._objs.get(k)
        return copy.deepcopy(o) if o is not None else None

    def list(self, ns: str | None, selector: str | None) -> list[Obj]:
        with self._lock:
            found = [o for k, o in sorted(self._objs.items()) if (not ns or k[0] == ns) and matches(o, selector)]
        return copy.deepcopy(found)


class CachedApi(Api):
    """Api, reading the stores of the kinds `inform` was given."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stores: dict[Res, Store] = {}

    def inform(self, res: Res) -> Store:
        return self.stores.setdefault(res, Store())

    def get(self, res: Res, ns: str | None, name: str) -> Obj | None:
        store = self.stores.get(res)
        return super().get(res, ns, name) if store is None else store.get((ns or "", name))

    def list(self, res: Res, ns: str | None = None, selector: str | None = None) -> list[Obj]:
        store = self.stores.get(res)
        return super().list(res, ns, selector) if store is None else store.list(ns, selector)

    def _wrote(self, res: Res, o: Obj) -> Obj:
        if res in self.stores:
            self.stores[res].put(copy.deepcopy(o))
        return o

    def create(self, res: Res, ns: str | None, body: Obj) -> Obj | None:
        if res in self.stores and (ns or "", body["metadata"]["name"]) in self.stores[res]:
            return None
        made = super().create(res, ns, body)
        return None if made is None else self._wrote(res, made)

    def patch(self, res: Res, ns: str | None, name: str, patch: Any, *, status: bool = False,
              kind: str = "merge") -> Obj:  # fmt: skip
        return self._wrote(res, super().patch(res, ns, name, patch, status=status, kind=kind))

    def replace(self, res: Res, ns: str | None, body: Obj) -> Obj:
        return self._wrote(res, super().replace(res, ns, body))


def inform(api: Api, res: Res, store: Store, on: Callable[[Obj], None], stop: threading.Event) -> None:
    """List then watch `res` into `store` until `stop`, calling `on` with each object seen."""
    while not stop.is_set():
        try:
            items, rv = api.list_at(res)
            store.replace(items, rv)
            for o in items:
                on(o)
            for kind, o in api.events(res, rv):
                (store.remove if kind == "DELETED" else store.put)(o)
                on(o)
                if stop.is_set():
                    return
        except ApiError as e:
            if e.status == 404:  # the CRD is not installed: nothing to wait for
                store.replace([], 0)
            stop.wait(1)
        except Exception:
            stop.wait(1)
