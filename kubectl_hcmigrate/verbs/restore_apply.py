"""restore's creation of the bundle's objects: each cleaned, marked with the backup it came from
and, for the HC and HCP, given the snapshot's URL; the objects of one phase a few at a time
(core/bounded.py). One already on the destination is kept as it is; one an earlier restore of
another backup left behind is replaced."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, NamedTuple

from kubectl_hcmigrate.core import marks, objects, restore_url
from kubectl_hcmigrate.core.bounded import run_bounded
from kubectl_hcmigrate.core.bundle import BundleObject
from kubectl_hcmigrate.core.marks import BACKUP_ID, RESTORED_FROM_BACKUP, SOURCE_UID
from kubectl_hcmigrate.core.pipeline import changed, unchanged
from kubectl_hcmigrate.core.ports import KubeError
from kubectl_hcmigrate.core.redact import safe_url, scrub
from kubectl_hcmigrate.core.report import PreflightError, StepFailed
from kubectl_hcmigrate.core.units import format_duration
from kubectl_hcmigrate.core.wait import poll_until
from kubectl_hcmigrate.verbs.restore_found import HCP, Restore


class Hook(NamedTuple):
    """What one kind gets on top of cleaning, and how the dry run says it."""

    prepare: Callable[[Restore, dict[str, Any]], dict[str, Any]]
    describe: Callable[[Restore], str]


def _signed_url(r: Restore) -> str:
    # Signed just before the first apply that needs it; an earlier run's URL stays, as the CRDs make
    # it immutable. On a versioned bucket the URL names the version backup wrote.
    r.url = r.url or r.bucket.presign_get(r.snapshot_key, r.opts.url_expiry, version_id=r.manifest.snapshot.version_id)
    return r.url


def _prepare_hcp(r: Restore, hcp: dict[str, Any]) -> dict[str, Any]:
    # T6: the HCP CRD lets the URL be set only at creation, and the HC controller copies the HC's
    # etcd block (URL included) onto the HCP (T5): created without it, every such update is refused
    # and the restore never starts. So it carries the same single URL as the HC, as upstream's OADP
    # plugin does.
    return restore_url.set_url(hcp, _signed_url(r))


def _prepare_hc(r: Restore, hc: dict[str, Any]) -> dict[str, Any]:
    m = r.manifest
    hc["metadata"].setdefault("annotations", {}).update(
        {BACKUP_ID: m.backup_id, SOURCE_UID: m.hostedcluster.uid, RESTORED_FROM_BACKUP: "true"}  # T8
        | marks.pools_left_out(r.not_restored)
    )
    return restore_url.set_url(hc, _signed_url(r))


def _describe_hc(r: Restore) -> str:
    if r.url:
        return f" keeping its restoreSnapshotURL {safe_url(r.url)}"
    where = f"s3://{r.bucket.name}/{r.manifest.snapshot.key}"
    return f" with restoreSnapshotURL [a GET of {where} presigned for {format_duration(r.opts.url_expiry)}]"


# Selected by the kind table's restore_hook.
HOOKS = {"restore-url": Hook(_prepare_hc, _describe_hc), "hcp-restore-url": Hook(_prepare_hcp, _describe_hc)}


@contextmanager
def failing(r: Restore, what: str) -> Iterator[None]:
    """A failed write says what it was; an unreachable destination is no refusal by now."""
    try:
        yield
    except (KubeError, PreflightError) as e:
        raise StepFailed(f"{what} on context '{r.kube.context}' failed: {scrub(str(e))}") from None


def create(r: Restore, batch: list[BundleObject]) -> None:
    """The batch's objects are of one phase, none needing another: created a few at a time."""
    bodies = [_body(r, o) for o in batch]  # here, not in the pool: the URL is signed once
    said: list[tuple[str, str] | None] = [None] * len(batch)
    ended_well: list[int] = []

    def ended(i: int, outcome: tuple[str, str]) -> None:
        said[i] = outcome
        if outcome[0] == "replaced":
            r.reporter.line(
                f"{batch[i].label} was left by a restore of backup {outcome[1]}: replaced with this backup's"
            )
        ended_well.append(i)
        r.reporter.count("objects", len(ended_well), len(batch))  # n/N while the batch is long

    try:
        run_bounded(range(len(batch)), lambda i: _apply(r, batch[i], bodies[i]), done=ended, name="create")
    finally:  # what ended well, in the bundle's order, whatever stopped the rest
        for o, outcome in zip(batch, said, strict=True):
            if outcome is not None:
                getattr(r, outcome[0]).append(o.label)


def _body(r: Restore, o: BundleObject) -> dict[str, Any]:
    body = objects.clean(o.obj, o.rule)
    body["metadata"].setdefault("annotations", {})[BACKUP_ID] = r.manifest.backup_id
    hook = HOOKS[o.rule.restore_hook] if o.rule.restore_hook else None
    return hook.prepare(r, body) if hook else body


def _apply(r: Restore, o: BundleObject, body: dict[str, Any]) -> tuple[str, str]:
    """Which of created, kept or replaced (and, replaced, the backup that left it): on a thread of
    the pool, so it only writes and records; the caller says and counts."""
    with failing(r, f"create {o.label}"):
        changed(f"create {o.label}")
        if r.kube.create(o.rule, body):
            return "created", ""
        unchanged(f"create {o.label}")  # it was there already
        return _keep_or_replace(r, o, body)


def _left_by(r: Restore, o: BundleObject) -> tuple[dict[str, Any] | None, str | None]:
    """The object on the destination, and the other backup whose restore left it there, if any."""
    there = r.kube.get(o.rule, objects.namespace_of(o.obj), objects.name_of(o.obj))
    theirs = ((there or {}).get("metadata", {}).get("annotations") or {}).get(BACKUP_ID)
    return there, theirs if theirs and theirs != r.manifest.backup_id else None


def _keep_or_replace(r: Restore, o: BundleObject, body: dict[str, Any]) -> tuple[str, str]:
    there, theirs = _left_by(r, o)
    if there is None or theirs is None:
        return "kept", ""  # counted per kind in the result, not a line each (2,500 on a re-run)
    changed(f"replace {o.label}")
    if o.rule == HCP and restore_url.current(there) != restore_url.current(body):
        # The HCP CRD makes its restore URL immutable: the other backup's HCP goes, this one's is created.
        _recreate(r, o, body)
    else:
        body["metadata"]["resourceVersion"] = there["metadata"]["resourceVersion"]
        r.kube.replace(o.rule, body)
    return "replaced", theirs


def _recreate(r: Restore, o: BundleObject, body: dict[str, Any], timeout: float = 60.0) -> None:
    ns, name = objects.namespace_of(o.obj), objects.name_of(o.obj)
    r.kube.delete(o.rule, ns, name)
    if not poll_until(
        lambda: r.kube.get(o.rule, ns, name) is None, timeout, every=0.5, reporter=r.reporter, what=o.label
    ):
        raise StepFailed(f"{o.label} left by another backup's restore is still being deleted after {timeout:.0f}s")
    r.kube.create(o.rule, body)


def describe_all(r: Restore, batch: list[BundleObject]) -> list[str]:
    """The dry run's line of each object: one read each, a few at a time as the creates."""
    lines = [""] * len(batch)
    run_bounded(batch, partial(_describe, r), done=lines.__setitem__, name="describe")
    return lines


def _describe(r: Restore, o: BundleObject) -> str:
    there, theirs = _left_by(r, o)
    if theirs is not None:
        return f"replace {o.label} (left by a restore of backup {theirs})"
    if there is not None:
        return f"keep {o.label} (already there)"
    hook = HOOKS[o.rule.restore_hook] if o.rule.restore_hook else None
    return f"create {o.label}" + (hook.describe(r) if hook else "")
