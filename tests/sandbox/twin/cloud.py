"""The hosted cluster's AWS, kept in the cloud twin (moto in server mode) as CAPA and
HyperShift keep it on AWS: instances per Machine, OIDC documents, VPC endpoints, DNS records.
Every delete path acts here, so a test sees with boto3 what a teardown destroyed."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import urlparse

REGION = "us-east-1"
PRIVATE_ZONE = "hypershift.local"
# ExternalDNS's TXT registry, new format: the owner record of a CNAME sits at `cname-<host>`.
TXT_PREFIX = "cname-"


def owned_tag(infra: str) -> str:
    return f"kubernetes.io/cluster/{infra}"


def oidc_location(issuer_url: str, infra: str) -> tuple[str, list[str]]:
    """(bucket, keys): the bucket is the issuer's host, the documents under the infraID."""
    bucket = urlparse(issuer_url).hostname or "oidc"
    return bucket, [f"{infra}/.well-known/openid-configuration", f"{infra}/openid/v1/jwks"]


class Cloud:
    def __init__(self, endpoint: str) -> None:
        import boto3

        kw = {"endpoint_url": endpoint, "region_name": REGION,
              "aws_access_key_id": "twin", "aws_secret_access_key": "twin"}  # fmt: skip
        self.ec2, self.s3, self.r53, self.iam = (boto3.client(s, **kw) for s in ("ec2", "s3", "route53", "iam"))

    # -- EC2: one instance per Machine ------------------------------------------------

    def _live(self, *flt: dict) -> list[dict]:
        """Instances not terminated (nor terminating) that match every filter."""
        out = self.ec2.describe_instances(
            Filters=[*flt, {"Name": "instance-state-name", "Values": ["pending", "running"]}]
        )
        return [i for r in out["Reservations"] for i in r["Instances"]]

    def instances(self, infra: str, machine: str | None = None) -> list[dict]:
        by_name = [{"Name": "tag:Name", "Values": [machine]}] if machine else []
        return self._live({"Name": f"tag:{owned_tag(infra)}", "Values": ["owned"]}, *by_name)

    def ensure_instance(self, infra: str, machine: str) -> str:
        """The Machine's instance, launched if it has none: its providerID, as CAPA writes it."""
        found = self.instances(infra, machine)
        if not found:
            tags = [{"Key": owned_tag(infra), "Value": "owned"}, {"Key": "Name", "Value": machine}]
            found = self.ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="m5.large",
                                           TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])["Instances"]  # fmt: skip
        return f"aws:///{found[0]['Placement']['AvailabilityZone']}/{found[0]['InstanceId']}"

    def running(self, instance_id: str) -> bool:
        return bool(self._live({"Name": "instance-id", "Values": [instance_id]}))

    def terminate(self, infra: str, machine: str) -> None:
        ids = [i["InstanceId"] for i in self.instances(infra, machine)]
        if ids:
            self.ec2.terminate_instances(InstanceIds=ids)

    # -- S3: the OIDC documents --------------------------------------------------------

    def ensure_oidc(self, issuer_url: str, infra: str) -> None:
        bucket, keys = oidc_location(issuer_url, infra)
        try:
            self.s3.head_bucket(Bucket=bucket)
        except Exception:
            self.s3.create_bucket(Bucket=bucket)
        for key in keys:
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
            except Exception:
                self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"issuer": issuer_url}).encode())

    def ensure_oidc_provider(self, issuer_url: str) -> None:
        """The IAM OIDC provider that the cluster's roles trust, created with the HC (`hypershift create iam`)."""
        url = issuer_url.removeprefix("https://")
        arns = [p["Arn"] for p in self.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
        if not any(a.endswith(f"oidc-provider/{url}") for a in arns):
            self.iam.create_open_id_connect_provider(Url=issuer_url, ClientIDList=["openshift", "sts.amazonaws.com"],
                                                     ThumbprintList=["a" * 40])  # fmt: skip

    def delete_oidc(self, issuer_url: str, infra: str) -> None:
        bucket, keys = oidc_location(issuer_url, infra)
        for key in keys:
            with contextlib.suppress(Exception):
                self.s3.delete_object(Bucket=bucket, Key=key)

    # -- Route53: the service hostnames ------------------------------------------------

    def zone_id(self, zone: str, create: bool = True) -> str | None:
        for z in self.r53.list_hosted_zones()["HostedZones"]:
            if z["Name"].rstrip(".") == zone:
                return z["Id"]
        if not create:
            return None
        return self.r53.create_hosted_zone(Name=zone, CallerReference=zone)["HostedZone"]["Id"]

    def records(self, zone: str) -> dict[str, str]:
        zid = self.zone_id(zone, create=False)
        if zid is None:
            return {}
        sets = self.r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
        return {s["Name"].rstrip("."): s["ResourceRecords"][0]["Value"] for s in sets if s["Type"] == "CNAME"}

    def _change(self, zone: str, action: str, names: dict[str, str]) -> None:
        if not names:
            return
        zid = self.zone_id(zone, create=action == "UPSERT")
        if zid is None:
            return
        changes = [{"Action": action, "ResourceRecordSet": {"Name": n, "Type": "CNAME", "TTL": 30,
                                                            "ResourceRecords": [{"Value": v}]}}
                   for n, v in names.items()]  # fmt: skip
        self.r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes})

    def ensure_records(self, zone: str, names: dict[str, str]) -> None:
        have = self.records(zone)
        self._change(zone, "UPSERT", {n: v for n, v in names.items() if have.get(n) != v})

    def delete_records(self, zone: str, names: list[str]) -> None:
        have = self.records(zone)
        self._change(zone, "DELETE", {n: have[n] for n in names if n in have})

    # -- Route53: ExternalDNS's TXT registry -------------------------------------------

    def owners(self, zone: str) -> dict[str, str]:
        """host -> the owner id of the TXT record ExternalDNS writes beside each record it made."""
        zid = self.zone_id(zone, create=False)
        if zid is None:
            return {}
        out = {}
        for s in self.r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]:
            if s["Type"] == "TXT" and s["Name"].startswith(TXT_PREFIX):
                owner = dict(
                    kv.split("=", 1) for kv in s["ResourceRecords"][0]["Value"].strip('"').split(",") if "=" in kv
                )
                out[s["Name"].rstrip(".").removeprefix(TXT_PREFIX)] = owner.get("external-dns/owner", "")
        return out

    def _txt(self, zone: str, host: str, owner: str, resource: str) -> None:
        value = f'"heritage=external-dns,external-dns/owner={owner},external-dns/resource={resource}"'
        zid = self.zone_id(zone)
        change = {"Action": "UPSERT", "ResourceRecordSet": {"Name": TXT_PREFIX + host, "Type": "TXT", "TTL": 30,
                                                          "ResourceRecords": [{"Value": value}]}}  # fmt: skip
        self.r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [change]})

    def claim(self, zone: str, host: str, target: str, owner: str, resource: str) -> None:
        """The record and its owner TXT record, written together as ExternalDNS does."""
        self.ensure_records(zone, {host: target})
        self._txt(zone, host, owner, resource)

    def release(self, zone: str, host: str) -> None:
        self.delete_records(zone, [host])
        zid = self.zone_id(zone, create=False)
        sets = self.r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"] if zid else []
        for s in sets:
            if s["Type"] == "TXT" and s["Name"].rstrip(".") == TXT_PREFIX + host:
                self.r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [
                    {"Action": "DELETE", "ResourceRecordSet": s}]})  # fmt: skip

    def zones(self) -> list[str]:
        return [z["Name"].rstrip(".") for z in self.r53.list_hosted_zones()["HostedZones"]]

    # -- EC2: a VPC endpoint per AWSEndpointService -------------------------------------

    def vpc(self) -> str:
        vpcs = self.ec2.describe_vpcs()["Vpcs"]
        return vpcs[0]["VpcId"] if vpcs else self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def endpoints(self, name: str | None = None) -> list[dict]:
        flt = [{"Name": "tag:hypershift.openshift.io/endpoint-service", "Values": [name or "*"]}]
        eps = self.ec2.describe_vpc_endpoints(Filters=flt)["VpcEndpoints"]
        return [e for e in eps if e["State"].lower() not in ("deleted", "deleting")]

    def ensure_endpoint(self, name: str) -> str:
        found = self.endpoints(name)
        if found:
            return found[0]["VpcEndpointId"]
        tags = [{"Key": "hypershift.openshift.io/endpoint-service", "Value": name}]
        out = self.ec2.create_vpc_endpoint(VpcId=self.vpc(), ServiceName=f"com.amazonaws.vpce.{REGION}.{name}",
                                           VpcEndpointType="Interface",
                                           TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": tags}])  # fmt: skip
        return out["VpcEndpoint"]["VpcEndpointId"]

    def delete_endpoint(self, name: str) -> None:
        ids = [e["VpcEndpointId"] for e in self.endpoints(name)]
        if ids:
            self.ec2.delete_vpc_endpoints(VpcEndpointIds=ids)
