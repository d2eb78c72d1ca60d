"""The HC's AWS around the move, as the tool reads and repairs it: the service records (Route53,
or a resolver), the OIDC documents (S3) and the IAM OIDC provider. boto3 only here and in s3store."""

from __future__ import annotations

import socket
from typing import Any

from kubectl_hcmigrate.adapters import dns_query
from kubectl_hcmigrate.adapters.s3session import credentials
from kubectl_hcmigrate.core.options import CloudTarget
from kubectl_hcmigrate.core.report import HcmigrateError, PreflightError

# ExternalDNS's TXT registry: the owner record sits beside the record, under one of these prefixes
# (the new format's `<type>-`, or none for the old format).
TXT_PREFIXES = ("cname-", "a-", "aaaa-", "")


def _client(target: CloudTarget, service: str) -> Any:
    import boto3

    sess = boto3.Session(**credentials(target.aws_creds_file))
    return sess.client(service, region_name=target.region or "us-east-1", endpoint_url=target.endpoint_url)


def owner_of_txt(value: str) -> str | None:
    """`"heritage=external-dns,external-dns/owner=<id>,..."` -> `<id>`; None for any other TXT."""
    fields = dict(kv.split("=", 1) for kv in value.strip('"').split(",") if "=" in kv)
    return fields.get("external-dns/owner") if fields.get("heritage") == "external-dns" else None


class HostedZoneRecords:
    """The records as Route53 holds them, owner TXT records included."""

    shows_owners = True

    def __init__(self, target: CloudTarget) -> None:
        self.zone = target.hosted_zone_id or ""
        self.r53 = _client(target, "route53")

    def describe(self) -> str:
        return f"hosted zone {self.zone}"

    def owners(self, hosts: list[str]) -> dict[str, str | None]:
        try:
            pages = self.r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=self.zone)
            sets = [s for page in pages for s in page["ResourceRecordSets"]]
        except Exception as e:  # botocore's errors: said in one line, no request details
            raise HcmigrateError(f"reading {self.describe()} failed: {type(e).__name__}: {e}") from None
        names = {s["Name"].rstrip(".").lower(): s for s in sets if s["Type"] != "TXT"}
        txt: dict[str, str | None] = {}
        for s in sets:
            if s["Type"] == "TXT":
                for r in s.get("ResourceRecords") or []:
                    if (o := owner_of_txt(r["Value"])) is not None:
                        txt[s["Name"].rstrip(".").lower()] = o
        out: dict[str, str | None] = {}
        for host in hosts:
            if host.lower() in names:
                out[host] = next((txt[p + host.lower()] for p in TXT_PREFIXES if p + host.lower() in txt), None)
        return out


class ResolvedRecords:
    """The records as a resolver answers: whether a name resolves, not who owns it. The system
    resolver, or the DNS server `--resolver` names (asked directly, past any local cache)."""

    shows_owners = False

    def __init__(self, resolver: str | None = None) -> None:
        self.resolver = resolver

    def describe(self) -> str:
        return f"the resolver {self.resolver}" if self.resolver else "the system resolver"

    def _resolves(self, host: str) -> bool:
        if self.resolver:
            return dns_query.resolves(self.resolver, host)
        try:
            socket.getaddrinfo(host, None)
        except socket.gaierror:
            return False
        return True

    def owners(self, hosts: list[str]) -> dict[str, str | None]:
        return {host: None for host in hosts if self._resolves(host)}


def records_for(target: CloudTarget | None) -> HostedZoneRecords | ResolvedRecords:
    if target is not None and target.hosted_zone_id:
        return HostedZoneRecords(target)
    return ResolvedRecords(target.resolver if target is not None else None)


def require_zone(target: CloudTarget | None, why: str) -> CloudTarget:
    if target is None or not target.hosted_zone_id:
        raise PreflightError(f"{why} needs --hosted-zone-id; nothing was changed")
    return target


class Identity:
    """The OIDC documents in their bucket and the IAM OIDC provider of an issuer."""

    # upstream's `fix dr-oidc-iam`: the audiences HyperShift's roles use, and S3's CA thumbprint
    CLIENT_IDS = ("openshift", "sts.amazonaws.com")
    S3_THUMBPRINT = "A9D53002E97E00E043244F3D170D6F4C414104FD"

    def __init__(self, target: CloudTarget) -> None:
        self.s3, self.iam = _client(target, "s3"), _client(target, "iam")

    def has_object(self, bucket: str, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except Exception as e:
            if getattr(e, "response", {}).get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise HcmigrateError(f"reading s3://{bucket}/{key} failed: {type(e).__name__}: {e}") from None

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

    def provider_arn(self, issuer_url: str) -> str | None:
        url = issuer_url.removeprefix("https://").rstrip("/")
        arns = [p["Arn"] for p in self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
        return next((a for a in arns if a.endswith(f":oidc-provider/{url}")), None)

    def create_provider(self, issuer_url: str) -> str:
        out = self.iam.create_open_id_connect_provider(
            Url=issuer_url, ClientIDList=list(self.CLIENT_IDS), ThumbprintList=[self.S3_THUMBPRINT]
        )
        return str(out["OpenIDConnectProviderArn"])
