"""`python -m tests.sandbox.twin ...`: the twin of one management cluster, until SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from tests.sandbox.twin import capi, cpo, hostedcluster, nodepool
from tests.sandbox.twin.api import (
    AWSEPS,
    CLUSTER,
    DEPLOY,
    HC,
    HCP,
    MACHINE,
    MD,
    MS,
    NODEPOOL,
    POD,
    ROUTE,
    SERVICE,
    STS,
    Obj,
)  # fmt: skip
from tests.sandbox.twin.cache import CachedApi
from tests.sandbox.twin.etcd_init import Members
from tests.sandbox.twin.queue import Controller, Key, Manager


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="twin")
    p.add_argument("--server", required=True)
    p.add_argument("--pki", type=Path, required=True, help="dir with ca.crt, admin.crt, admin.key")
    p.add_argument("--aws-endpoint")
    p.add_argument("--members-root", type=Path, help="run etcd members for this cluster (T10)")
    p.add_argument("--member-ips", default="")
    p.add_argument("--etcd-tls", type=Path)
    p.add_argument("--bin", type=Path)
    p.add_argument("--s3-ca", type=Path)
    p.add_argument("--pids", type=Path)
    p.add_argument("--logs", type=Path)
    p.add_argument("--prefix", default="hosted-etcd")
    p.add_argument("--resync", type=float, default=5.0)
    p.add_argument("--dns-owner", help="play this cluster's ExternalDNS with this --txt-owner-id (T16)")
    p.add_argument("--dns-log", type=Path, help="append each record ExternalDNS creates or deletes here")
    return p.parse_args(argv)


def build(args: argparse.Namespace) -> Manager:
    api = CachedApi(args.server, args.pki / "ca.crt", args.pki / "admin.crt", args.pki / "admin.key")
    cloud = None
    if args.aws_endpoint:
        from tests.sandbox.twin.cloud import Cloud

        cloud = Cloud(args.aws_endpoint)
    members = None
    if args.members_root:
        members = Members(args.bin, args.members_root, args.etcd_tls, tuple(args.member_ips.split(",")),
                          args.s3_ca, args.pids, args.logs, args.prefix)  # fmt: skip
    mgr = Manager(api, args.resync)

    def keys(res, ns=None) -> Iterable[Key]:
        return [(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in api.list(res, ns)]

    hc = Controller("hostedcluster", lambda k: hostedcluster.reconcile(api, cloud, *k), lambda: keys(HC))
    cp = Controller("control-plane-operator", lambda k: cpo.reconcile(api, cloud, members, *k), lambda: keys(HCP))
    np = Controller("nodepool", lambda k: nodepool.reconcile(api, cloud, *k), lambda: keys(NODEPOOL))
    machine = Controller("capi-machine", lambda k: capi.reconcile_machine(api, cloud, *k), lambda: keys(MACHINE))
    owners = {res: Controller(f"capi-{res.plural}", lambda k, r=res: capi.reconcile_owner(api, r, *k),
                              lambda r=res: keys(r)) for res in (MD, MS, CLUSTER)}  # fmt: skip
    mgr.controllers = [hc, cp, np, machine, *owners.values()]
    if cloud is not None and args.dns_owner:
        from tests.sandbox.twin.externaldns import ExternalDns

        edns = ExternalDns(api, cloud, args.dns_owner, args.dns_log)
        dns = Controller("external-dns", lambda k: edns.reconcile(), lambda: [("", "external-dns")])
        mgr.controllers.append(dns)
        for res in (ROUTE, SERVICE):
            mgr.watch(res, lambda o: [(dns, ("", "external-dns"))])
    else:
        for res in (ROUTE, SERVICE):  # the control-plane operator's publishing reads them
            mgr.watch(res)

    hcp_of: dict[str, Key] = {}  # HCP namespace -> the HC's key

    def key(o: Obj) -> Key:
        return o["metadata"].get("namespace", ""), o["metadata"]["name"]

    def on_hc(o: Obj):
        ns, name = key(o)
        hcp_of[f"{ns}-{name}"] = (ns, name)
        return [(hc, (ns, name))]

    def in_hcp_ns(o: Obj, *extra: tuple[Controller, Key]):
        ns = o["metadata"].get("namespace", "")
        out = list(extra)
        if ns in hcp_of:
            out += [(hc, hcp_of[ns]), (cp, (ns, hcp_of[ns][1]))]
        return out

    def on_np(o: Obj):
        return [(np, key(o))]

    def on_machine_obj(ctrl: Controller):
        def mapper(o: Obj):
            out = [(ctrl, key(o))]
            pool = (o["metadata"].get("labels") or {}).get(nodepool.NP_LABEL)
            ns = o["metadata"].get("namespace", "")
            if pool and ns in hcp_of:
                out.append((np, (hcp_of[ns][0], pool)))
            return out

        return mapper

    mgr.watch(HC, on_hc)
    mgr.watch(HCP, lambda o: in_hcp_ns(o, (cp, key(o))))
    for res in (DEPLOY, STS, POD):
        mgr.watch(res, in_hcp_ns)
    mgr.watch(NODEPOOL, on_np)
    mgr.watch(MACHINE, on_machine_obj(machine))
    for res, ctrl in owners.items():
        mgr.watch(res, on_machine_obj(ctrl) if res != CLUSTER else (lambda o, c=ctrl: in_hcp_ns(o, (c, key(o)))))
    mgr.watch(AWSEPS, in_hcp_ns)
    return mgr


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("urllib3", "botocore", "boto3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mgr = build(parse(argv))
    signal.signal(signal.SIGTERM, lambda *_: mgr.stop.set())
    logging.getLogger("twin").info("twin up")
    with contextlib.suppress(KeyboardInterrupt):
        mgr.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
