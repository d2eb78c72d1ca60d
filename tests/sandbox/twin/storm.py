"""`python -m tests.sandbox.twin.storm --server URL --pki DIR --namespace NS`: HyperShift's
finalizers put back as fast as the API takes them, beside the twin, until SIGTERM.

The real operators put them back on every reconcile, whatever the pause (T1, T2, T14), or while
the control-plane operator runs (T13), and every change of the object starts a reconcile. Here
each row watches its kind and answers every event at once (no work queue, no cache, no rate
limit) with the one write that puts the finalizer back, on the version the event carries, under
the same conditions as the twin's controllers (it calls their code). So the finalizer is back a
moment after a strip: the worst case for teardown. It never runs a delete path: that stays the
twin's. On SIGTERM it prints, as one JSON line, per row: the events it answered, the finalizers
it put back, and the races it lost (409)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from tests.sandbox.twin import cpo, hostedcluster
from tests.sandbox.twin.api import AWSEPS, DEPLOY, HC, HCP, NODEPOOL, Api, ApiError, Obj, Res
from tests.sandbox.twin.meta import COMPONENT_FINALIZER, HC_FINALIZER, add_finalizer, deleting, hcp_namespace


def rows(api: Api, ns: str) -> dict[str, tuple[Res, Callable[[Obj], int]]]:
    """Each row: the kind it watches, and what it does with one object of it (the writes)."""

    def live_hc(hcp_ns: str) -> bool:
        return any(hcp_namespace(hc) == hcp_ns and not deleting(hc) for hc in api.list(HC, ns))

    def component(dep: Obj) -> int:  # T2: while its HC lives
        m = dep["metadata"]
        if m["name"] not in hostedcluster.COMPONENT_DEPLOYMENTS or deleting(dep) or not live_hc(m["namespace"]):
            return 0
        return int(add_finalizer(api, DEPLOY, dep, COMPONENT_FINALIZER))

    def endpoint_service(eps: Obj) -> int:  # T13: while the control-plane operator runs
        where = eps["metadata"]["namespace"]
        hcps = api.list(HCP, where)
        return int(bool(hcps) and cpo.cpo_running(api, where) and cpo.keep_endpoint_finalizer(api, eps, hcps[0]))

    def in_ns(f: Callable[[Obj], int]) -> Callable[[Obj], int]:
        return lambda o: f(o) if o["metadata"].get("namespace") == ns and not deleting(o) else 0

    return {
        "T1": (HC, in_ns(lambda hc: int(add_finalizer(api, HC, hc, HC_FINALIZER)))),
        "T2": (DEPLOY, component),
        "T13": (AWSEPS, endpoint_service),
        "T14": (NODEPOOL, in_ns(lambda np: int(add_finalizer(api, NODEPOOL, np, HC_FINALIZER)))),
    }


def storm(api: Api, ns: str, stop: threading.Event) -> dict[str, Counter[str]]:
    answered: Counter[str] = Counter()
    put_back: Counter[str] = Counter()
    lost: Counter[str] = Counter()

    def loop(row: str, res: Res, answer: Callable[[Obj], int]) -> None:
        while not stop.is_set():  # a watch ends after a while: watch again
            try:
                for obj in api.watch(res):
                    answered[row] += 1
                    try:
                        put_back[row] += answer(obj)
                    except ApiError as e:  # 409: the version moved on; 404: the object went
                        lost[row] += e.status == 409
            except Exception:  # the connection dropped: watch again
                stop.wait(0.1)

    for row, (res, answer) in rows(api, ns).items():
        threading.Thread(target=loop, args=(row, res, answer), daemon=True).start()
    stop.wait()
    return {"answered": answered, "put_back": put_back, "lost": lost}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="storm")
    p.add_argument("--server", required=True)
    p.add_argument("--pki", type=Path, required=True, help="dir with ca.crt, admin.crt, admin.key")
    p.add_argument("--namespace", default="clusters", help="the HostedClusters' namespace")
    args = p.parse_args(argv)
    api = Api(args.server, args.pki / "ca.crt", args.pki / "admin.crt", args.pki / "admin.key")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Timer(2.0, lambda: print("storm up", flush=True)).start()  # its watches open by then
    print(json.dumps(storm(api, args.namespace, stop)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
