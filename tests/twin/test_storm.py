"""The storm's rows put back what the twin's controllers put back, under their conditions, and
nothing else: a finalizer on a live object only, the component finalizer only while the HC lives."""

from __future__ import annotations

from tests.sandbox.twin import hostedcluster, storm
from tests.sandbox.twin.api import DEPLOY, HC, NODEPOOL
from tests.sandbox.twin.meta import COMPONENT_FINALIZER, HC_FINALIZER
from tests.twin.test_rows import HCP_NS, NAME, NS, world


def answer(api, row: str, res, ns: str, name: str) -> int:
    return storm.rows(api, NS)[row][1](api.get(res, ns, name))


def test_every_row_puts_its_finalizer_back_on_a_paused_cluster():
    api, _ = world(paused="true")
    api.put(DEPLOY, hostedcluster.deployment("cluster-api", HCP_NS, 1))
    for res, ns, name in ((HC, NS, NAME), (NODEPOOL, NS, "example-pool")):
        api.patch(res, ns, name, {"metadata": {"finalizers": None}})
    assert answer(api, "T1", HC, NS, NAME) == 1
    assert answer(api, "T14", NODEPOOL, NS, "example-pool") == 1
    assert answer(api, "T2", DEPLOY, HCP_NS, "cluster-api") == 1
    assert api.get(HC, NS, NAME)["metadata"]["finalizers"] == [HC_FINALIZER]
    assert api.get(DEPLOY, HCP_NS, "cluster-api")["metadata"]["finalizers"] == [COMPONENT_FINALIZER]
    assert answer(api, "T1", HC, NS, NAME) == 0  # there already: no write


def test_no_component_finalizer_once_the_hc_is_gone():
    api, _ = world(paused="true")
    api.put(DEPLOY, hostedcluster.deployment("cluster-api", HCP_NS, 1))
    api.patch(HC, NS, NAME, {"metadata": {"finalizers": None}})
    api.delete(HC, NS, NAME)
    assert answer(api, "T2", DEPLOY, HCP_NS, "cluster-api") == 0
    assert not api.get(DEPLOY, HCP_NS, "cluster-api")["metadata"].get("finalizers")
