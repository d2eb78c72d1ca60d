"""After the restore (T17): the OIDC documents at the HC's issuer and its IAM OIDC provider, in the
cloud twin's S3 and IAM. With both deleted, `oidc` finds it (exit 1), --dry-run shows the documents
it would write, and --fix writes them, with the JWKS of the HCP's sa-signing-key, and recreates
the provider. The destination's operator is held meanwhile: it would upload its own documents."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization

from tests.e2e.helpers import HC_KIND, HC_NAME, HC_NS, HCP_NS, hcm, operator_stopped
from tests.e2e.test_teardown import Migrated, migrated  # noqa: F401 - the fixture
from tests.sandbox.twin.cloud import Cloud, oidc_location

pytestmark = pytest.mark.e2e


def b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def test_missing_oidc_documents_are_found_and_rewritten_from_the_signing_key(migrated: Migrated) -> None:  # noqa: F811
    sb = migrated.sb
    cloud = Cloud(sb.env["SANDBOX_AWS_ENDPOINT"])
    hc = sb.destination.kubectl().get(HC_KIND, HC_NAME, "-n", HC_NS)
    issuer, infra = hc["spec"]["issuerURL"], hc["spec"]["infraID"]
    bucket, keys = oidc_location(issuer, infra)
    args = ["oidc", "--hc", HC_NAME, "-n", HC_NS, "--to-context", "destination",
            "--cloud-endpoint-url", sb.env["SANDBOX_AWS_ENDPOINT"]]  # fmt: skip
    assert hcm(sb, *args).returncode == 0  # the twin's operator published them when it created the HC
    with operator_stopped(sb, "destination"):
        cloud.delete_oidc(issuer, infra)
        for p in cloud.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            cloud.iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])
        found = hcm(sb, *args, "-o", "json")
        assert found.returncode == 1, found.stderr
        assert "--fix recreates it" in json.loads(found.stdout)["error"]
        assert all(f"oidc: missing s3://{bucket}/{k}" in found.stderr for k in keys), found.stderr
        dry = hcm(sb, *args, "--dry-run", "-o", "json")
        assert dry.returncode == 0, dry.stderr
        assert any(
            c.startswith(f"write the OIDC documents: write s3://{bucket}/{keys[1]}: ")
            for c in json.loads(dry.stdout)["changes"]
        )
        assert not any(o.get("Key") in keys for o in cloud.s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        fixed = hcm(sb, *args, "--fix", "-o", "json")
        assert fixed.returncode == 0, fixed.stderr
    secret = sb.destination.kubectl().get("secret", "sa-signing-key", "-n", HCP_NS)
    key = serialization.load_pem_private_key(base64.b64decode(secret["data"]["key"]), None)
    numbers = key.public_key().public_numbers()  # type: ignore[union-attr]
    jwks = json.loads(cloud.s3.get_object(Bucket=bucket, Key=keys[1])["Body"].read())
    assert [(b64url_int(k["n"]), b64url_int(k["e"])) for k in jwks["keys"]] == [(numbers.n, numbers.e)]
    discovery = json.loads(cloud.s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert discovery["issuer"] == issuer and discovery["jwks_uri"] == f"{issuer}/openid/v1/jwks"
    arns = [p["Arn"] for p in cloud.iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert any(a.endswith(issuer.removeprefix("https://")) for a in arns), arns
    assert hcm(sb, *args).returncode == 0
