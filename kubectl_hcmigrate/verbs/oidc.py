"""oidc: after the restore, check the HC's OIDC identity (T17): the discovery and JWKS documents
at spec.issuerURL and the IAM OIDC provider of that issuer, which the cluster's IAM roles trust.
With --fix, what is missing is put back as upstream's `hypershift fix dr-oidc-iam` does: the
documents regenerated from the HCP's `sa-signing-key`, the provider created; --dry-run shows
what would be written. Documents that are there are never overwritten."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from kubectl_hcmigrate.core import oidc
from kubectl_hcmigrate.core.kinds import rule_for
from kubectl_hcmigrate.core.objects import hcp_namespace
from kubectl_hcmigrate.core.pipeline import Plan, Step, changed
from kubectl_hcmigrate.core.ports import KubePort, Reporter
from kubectl_hcmigrate.core.report import HcmigrateError, PreflightError, succeeded
from kubectl_hcmigrate.core.source_state import HC


class IdentityPort(Protocol):
    def has_object(self, bucket: str, key: str) -> bool: ...
    def put_object(self, bucket: str, key: str, body: bytes) -> None: ...
    def provider_arn(self, issuer_url: str) -> str | None: ...
    def create_provider(self, issuer_url: str) -> str: ...


@dataclass(frozen=True)
class OidcOptions:
    name: str
    namespace: str
    fix: bool = False
    bucket: str | None = None  # the OIDC bucket, when the issuer's host does not name it


@dataclass
class Oidc:
    opts: OidcOptions
    identity: IdentityPort
    reporter: Reporter
    issuer: str
    bucket: str
    keys: list[str]
    signing_key: str | None
    missing_keys: list[str] = field(default_factory=list)
    provider: str | None = None

    @property
    def missing(self) -> list[str]:
        return [f"s3://{self.bucket}/{k}" for k in self.missing_keys] + (
            [] if self.provider else [f"the IAM OIDC provider of {self.issuer}"]
        )


def preflight(opts: OidcOptions, kube: KubePort, identity: IdentityPort, reporter: Reporter) -> Oidc:
    hc = kube.get(HC, opts.namespace, opts.name)
    if hc is None:
        raise PreflightError(f"HostedCluster {opts.namespace}/{opts.name} not found on context '{kube.context}'")
    issuer = (hc.get("spec") or {}).get("issuerURL")
    if not issuer:
        raise PreflightError(f"HostedCluster {opts.namespace}/{opts.name} has no spec.issuerURL: nothing to check")
    bucket, keys = oidc.location(issuer, opts.bucket)
    secret = kube.get(rule_for("Secret", "hcp"), hcp_namespace(hc), oidc.SIGNING_KEY_SECRET)
    key = (secret or {}).get("data", {}).get("key")
    o = Oidc(opts, identity, reporter, issuer, bucket, keys, base64.b64decode(key).decode() if key else None)
    o.missing_keys = [k for k in keys if not identity.has_object(bucket, k)]
    o.provider = identity.provider_arn(issuer)
    for what in o.missing:
        reporter.line(f"oidc: missing {what}")
    if not o.missing:
        reporter.line(f"oidc: the documents at {issuer} and its IAM OIDC provider are there")
    elif opts.fix and o.missing_keys and o.signing_key is None:
        raise PreflightError(
            f"secret {hcp_namespace(hc)}/{oidc.SIGNING_KEY_SECRET} (or its `key`) is missing on context "
            f"'{kube.context}': the documents cannot be regenerated; nothing was changed"
        )
    return o


def check_found(o: Oidc) -> None:
    """Without --fix, what is missing fails the check (exit 1): the cluster's IAM roles cannot be assumed."""
    if o.missing and not o.opts.fix:
        raise HcmigrateError(
            f"OIDC identity of {o.issuer} incomplete: missing {', '.join(o.missing)}; --fix recreates it"
        )


def build_plan(o: Oidc) -> Plan:
    plan = Plan("oidc")
    if o.missing_keys:
        plan.add(Step("write the OIDC documents", partial(_write, o), changes=partial(_doc_changes, o)))
    if o.provider is None:
        plan.add(Step("create the IAM OIDC provider", partial(_provider, o),
                      changes=lambda: [f"create the IAM OIDC provider of {o.issuer} "
                                       f"(audiences {', '.join(('openshift', 'sts.amazonaws.com'))})"]))  # fmt: skip
    return plan


def _documents(o: Oidc) -> dict[str, bytes]:
    discovery, jwks = oidc.documents(o.issuer, o.signing_key or "")
    return dict(zip(o.keys, (discovery, jwks), strict=True))


def _doc_changes(o: Oidc) -> list[str]:
    docs = _documents(o)
    return [f"write s3://{o.bucket}/{k}: {docs[k].decode()}" for k in o.missing_keys]


def _write(o: Oidc) -> None:
    docs = _documents(o)
    for k in o.missing_keys:
        changed(f"write s3://{o.bucket}/{k}")
        o.identity.put_object(o.bucket, k, docs[k])


def _provider(o: Oidc) -> None:
    changed(f"create the IAM OIDC provider of {o.issuer}")
    o.provider = o.identity.create_provider(o.issuer)


def result(o: Oidc, timings: dict[str, float]) -> dict[str, Any]:
    return succeeded(
        o.opts,
        issuer=o.issuer,
        documents=[f"s3://{o.bucket}/{k}" for k in o.keys],
        written=[f"s3://{o.bucket}/{k}" for k in o.missing_keys],
        provider=o.provider,
    )
