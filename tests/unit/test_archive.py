"""The bundle as one archive: it holds exactly the bundle's files, unpacks by hand into the
kustomize-ready directory with Secrets 0600 in 0700 folders, and a damaged or hostile archive is
one clear refusal."""

from __future__ import annotations

import io
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from kubectl_hcmigrate.core import archive, bundle
from kubectl_hcmigrate.core.layout import MANIFEST, BackupLayout
from kubectl_hcmigrate.core.report import PreflightError
from kubectl_hcmigrate.verbs.backup_data import forget, upload_bundle
from tests.fakes import NullReporter
from tests.unit import hc_fixtures as fx

WHERE = "s3://b/clusters/cesar/x/bundle/bundle.tar.gz"


def rendered() -> dict[str, bytes]:
    objects = {
        fx.NS: [fx.hostedcluster(), *fx.nodepools(), fx.secret("cesar-pull-secret")],
        fx.HCP_NS: fx.hcp_objects(),
    }
    files, _ = bundle.render_bundle(objects, fx.manifest())
    return files


def test_it_holds_every_file_but_the_manifest_and_they_unpack_byte_for_byte() -> None:
    files = rendered()
    unpacked = archive.unpack(archive.pack(files), WHERE)
    assert unpacked == {p: b for p, b in files.items() if p != MANIFEST}
    bundle.read_bundle({**unpacked, MANIFEST: files[MANIFEST]})  # the manifest vouches for each one


def test_tar_unpacks_it_into_private_folders_and_files(tmp_path: Path) -> None:
    (tmp_path / "b.tar.gz").write_bytes(archive.pack(rendered()))
    subprocess.run(["tar", "xzf", "b.tar.gz", "--no-same-owner"], cwd=tmp_path, check=True)
    secret = next((tmp_path / fx.NS).glob("secret-*.yaml"))
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / fx.NS).stat().st_mode) == 0o700
    assert (tmp_path / "kustomization.yaml").is_file()


def _tar(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"not gzip at all", "is not a readable bundle archive"),
        (archive.pack({"a/b.yaml": b"x" * 5000})[:-40], "is not a readable bundle archive"),
        (_tar((_member("../etc/passwd"), b"x")), "is not a readable bundle archive ('../etc/passwd' is not a plain"),
        (_tar((_member("/abs.yaml"), b"x")), "is not a readable bundle archive"),
        (
            _tar((_member("a/link.yaml", tarfile.SYMTYPE, "/etc/shadow"), b"")),
            "holds 'a/link.yaml', which no bundle has",
        ),
        (_tar((_member(MANIFEST), b"{}")), "holds 'manifest.json', which no bundle has"),
        (_tar((_member("a.yaml"), b"1"), (_member("a.yaml"), b"2")), "holds 'a.yaml', which no bundle has"),
    ],
    ids=["garbage", "truncated", "climbs-out", "absolute", "symlink", "own-manifest", "twice"],
)
def test_a_damaged_or_hostile_archive_is_one_refusal(data: bytes, says: str) -> None:
    with pytest.raises(PreflightError, match="fetch it again or take a new backup") as e:
        archive.unpack(data, WHERE)
    assert str(e.value).startswith(WHERE) and says in str(e.value)


def test_an_archive_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_UNPACKED", 1000)
    with pytest.raises(PreflightError, match="unpacks to more than"):
        archive.unpack(archive.pack({"a.yaml": b"x" * 600, "b.yaml": b"y" * 600}), WHERE)


class MemoryBucket:
    """The few calls the bundle upload and its undo make."""

    def __init__(self, fail_on: str = "") -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_on = fail_on

    def put_bytes(self, key: str, data: bytes) -> None:
        if self.fail_on and key.endswith(self.fail_on):
            raise OSError("connection reset by peer")
        self.objects[key] = data

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def abort_incomplete_uploads(self, key: str) -> None:
        pass

    def full_key(self, key: str) -> str:
        return key


LAYOUT = BackupLayout("", fx.NS, "cesar", "20260101T000000Z")


def test_the_bundle_goes_up_in_two_requests_the_manifest_last() -> None:
    bucket, uploaded = MemoryBucket(), []
    upload_bundle(bucket, LAYOUT, rendered(), uploaded)  # type: ignore[arg-type]
    assert list(bucket.objects) == uploaded == [LAYOUT.archive_key, LAYOUT.manifest_key]


def test_a_bundle_whose_manifest_failed_is_removed_whole() -> None:
    bucket, uploaded = MemoryBucket(fail_on=MANIFEST), []
    with pytest.raises(OSError):
        upload_bundle(bucket, LAYOUT, rendered(), uploaded)  # type: ignore[arg-type]
    assert uploaded == [LAYOUT.archive_key, LAYOUT.manifest_key]  # listed before its request
    forget(bucket, "b", uploaded, NullReporter())  # type: ignore[arg-type]
    assert bucket.objects == {}
