"""Take an etcd snapshot inside an etcd pod and stream it straight into S3, verified.

The command lines are exactly what a person would type into `oc exec`, passed as argument
lists: nothing goes through a shell.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubectl_hcmigrate.core.ports import Reporter
from kubectl_hcmigrate.core.report import StepFailed
from kubectl_hcmigrate.core.units import human_bytes
from kubectl_hcmigrate.core.wait import alive
from kubectl_hcmigrate.etcd.pods import CONTAINER, ETCD_PODS, said
from kubectl_hcmigrate.etcd.saving import Saving
from kubectl_hcmigrate.etcd.scratch import SCRATCH_DIRS, own_files, scratch_name
from kubectl_hcmigrate.etcd.verifier import SnapshotVerifier, VerifyingReader

if TYPE_CHECKING:
    from kubectl_hcmigrate.core.ports import BucketPort, KubePort

ENDPOINT = "https://localhost:2379"
CERT = "/etc/etcd/tls/client/etcd-client.crt"
KEY = "/etc/etcd/tls/client/etcd-client.key"
# OCP >= 4.12 mounts the CA here; older releases ship it beside the client certificate.
CA_PATHS = ("/etc/etcd/tls/etcd-ca/ca.crt", "/etc/etcd/tls/client/etcd-client-ca.crt")


@dataclass(frozen=True)
class SnapshotResult:
    pod: str
    key: str
    size: int
    sha256: str
    seconds: float
    etag: str | None = None  # what S3 computed for the object (and its version, if versioned)
    version_id: str | None = None
    revision: int | None = None  # etcd's revision the snapshot is consistent at, when known


@dataclass(frozen=True)
class Saved:
    """A snapshot saved in an etcd pod's scratch file, not yet streamed out."""

    pod: str
    path: str
    size: int
    seconds: float


def ready_etcd_pods(kube: KubePort, hcp_ns: str) -> list[str]:
    """Ready etcd members, etcd-0 first."""
    ready = []
    for pod in kube.pods(hcp_ns, ETCD_PODS):
        conds = pod.get("status", {}).get("conditions") or []
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
            ready.append(pod["metadata"]["name"])
    return sorted(ready, key=lambda n: (len(n), n))


class EtcdSnapshotter:
    def __init__(self, kube: KubePort, hcp_ns: str, reporter: Reporter) -> None:
        self.kube, self.ns, self.reporter = kube, hcp_ns, reporter

    def _run(self, pod: str, argv: list[str]) -> tuple[int, bytes, bytes]:
        return self.kube.run_in_pod(self.ns, pod, CONTAINER, argv)

    def etcdctl(self, ca: str) -> list[str]:
        return ["etcdctl", f"--endpoints={ENDPOINT}", f"--cacert={ca}", f"--cert={CERT}", f"--key={KEY}"]

    def detect_ca(self, pod: str) -> str:
        for path in CA_PATHS:
            if self._run(pod, ["test", "-f", path])[0] == 0:
                return path
        raise StepFailed(f"no etcd CA certificate in pod {self.ns}/{pod} (looked at {', '.join(CA_PATHS)})")

    def db_size(self, pod: str, ca: str) -> int:
        """etcd's database size, which the scratch file needs room for: unknown is a failure, not 0."""
        code, out, err = self._run(pod, [*self.etcdctl(ca), "endpoint", "status", "-w", "json"])
        try:
            if code == 0:
                return int(json.loads(out)[0]["Status"]["dbSize"])
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise StepFailed(
                f"etcdctl endpoint status in {self.ns}/{pod} gave no dbSize ({type(e).__name__})"
            ) from None
        raise StepFailed(f"etcdctl endpoint status failed in {self.ns}/{pod} (exit {code}): {said(err)}")

    def scratch_dir(self, pod: str, need: int) -> str:
        """The first scratch directory with room for the snapshot (plus a margin)."""
        code, out, _ = self._run(pod, ["df", "-Pk", *SCRATCH_DIRS])
        if code != 0:
            return SCRATCH_DIRS[0]
        free = {}
        for line in out.decode(errors="replace").splitlines()[1:]:
            cols = line.split()
            if len(cols) >= 6:
                free[cols[5]] = int(cols[3]) * 1024
        for d in SCRATCH_DIRS:
            # df reports the mount point; a directory on the root fs reports "/".
            avail = free.get(d, free.get("/", 0))
            if avail > need * 1.1 + (64 << 20):
                return d
        raise StepFailed(
            f"no room for a {need >> 20} MiB snapshot in pod {self.ns}/{pod} "
            f"(checked {', '.join(SCRATCH_DIRS)}): free space on the etcd volume first"
        )

    def snapshot_to_bucket(
        self, pods: list[str], bucket: BucketPort, key: str, part_size: int, tag: str
    ) -> SnapshotResult:
        """Save and stream in one go (the scratch file is removed whatever happens)."""
        saved = self.save(pods, tag)
        return self.upload(saved, bucket, key, part_size)

    def save(self, pods: list[str], tag: str) -> Saved:
        """`etcdctl snapshot save` into a scratch file, to the end (see `begin` and `finish`)."""
        return self.finish(self.begin(pods, tag))

    def begin(self, pods: list[str], tag: str) -> Saving:
        """Starts `etcdctl snapshot save` into a scratch file of the first member that can, and
        returns once the snapshot's content is fixed (etcd/saving.py): the source may change from
        then on. A member that fails before that leaves no file of ours and the next one is tried."""
        errors = []
        for pod in pods:  # HA: one member's snapshot serves every member on restore
            try:
                return self._begin_in(pod, tag)
            except StepFailed as e:
                errors.append(str(e))
                if pod != pods[-1]:
                    self.reporter.line(f"warning: {e}; trying the next etcd member")
        raise StepFailed(errors[-1] if errors else f"no Ready etcd pod in {self.ns}")

    def _begin_in(self, pod: str, tag: str) -> Saving:
        ca = self.detect_ca(pod)
        scratch = f"{self.scratch_dir(pod, self.db_size(pod, ca))}/{scratch_name(tag)}"
        what = self._saving_in(pod)
        self.reporter.line(what)
        saving = Saving(pod, scratch).start(
            lambda argv: self._run(pod, argv), [*self.etcdctl(ca), "snapshot", "save", scratch]
        )
        try:
            # Until etcd sends its first bytes, the hosted API is down: the time waited shows it is alive.
            with alive(self.reporter, what):
                saving.wait_until_fixed(lambda argv: self._run(pod, argv))
            if not saving.running:
                self._check(saving, saving.wait())  # it ended before any byte was seen: did it fail?
            return saving
        except BaseException:
            self.drop(saving)
            raise

    def finish(self, saving: Saving) -> Saved:
        """Waits for the save to end: its file, checked. A failure now is no reason to try another
        member, whose snapshot would be of the source as it is now: the backup fails instead."""
        what = self._saving_in(saving.pod)
        try:
            # It prints nothing until it ends, minutes on a big etcd: the time waited shows it is alive.
            with alive(self.reporter, what):
                outcome = saving.wait()
            self._check(saving, outcome)
            size, seconds = self._file_size(saving.pod, saving.path), time.monotonic() - saving.started
            self.reporter.line(f"{what}: {human_bytes(size)} in {seconds:.1f}s")
            return Saved(saving.pod, saving.path, size, seconds)
        except BaseException:  # failure or interrupt: etcdctl's .part too, if it got no further
            self.drop(saving)
            raise

    def _saving_in(self, pod: str) -> str:
        return f"etcdctl snapshot save in {self.ns}/{pod}"

    def _check(self, saving: Saving, outcome: tuple[int, bytes, bytes] | None) -> None:
        code, _, err = outcome or (-1, b"", b"")
        if code != 0:
            raise StepFailed(f"etcdctl snapshot save failed in {self.ns}/{saving.pod} (exit {code}): {said(err)}")

    def drop(self, saving: Saving, grace: float = 10.0) -> None:
        """Removes a save's scratch files once etcdctl has ended (else it would rename its .part back
        into place after the removal); one still running after `grace` is left to the next backup's
        removal of leftovers."""
        saving.join(grace)  # how it ended is said by whoever waited for its outcome
        self._remove(saving.pod, saving.path)

    def upload(self, saved: Saved, bucket: BucketPort, key: str, part_size: int) -> SnapshotResult:
        """Streams the saved file into `key`, verified as it goes; the scratch file is removed on
        every path."""
        pod, scratch, total = saved.pod, saved.path, saved.size
        t0 = time.monotonic()
        try:
            # Read here, not at the save: backup puts the source back in between, and this
            # exec is one less while the control plane is down.
            revision = self._revision(pod, scratch)
            verifier = SnapshotVerifier()
            label = f"upload {pod} snapshot"
            self.reporter.progress(label, 0, total)  # starts the clock for rate and ETA
            reader = self.kube.stream_from_pod(self.ns, pod, CONTAINER, ["cat", scratch])
            try:
                stream = VerifyingReader(reader, verifier)

                def finish() -> None:
                    reader.check()  # exit status of cat, then the trailer
                    verifier.finish()

                # A short read fails before completion (expected_size): no object appears.
                uploaded = bucket.upload_stream(
                    key, stream, part_size=part_size, finish=finish, expected_size=total or None,
                    on_progress=lambda done: self.reporter.progress(label, done, total),
                    sha256=lambda: verifier.finish().sha256,  # it hashes every byte already
                )  # fmt: skip
            finally:
                reader.close()
            digest = verifier.finish()
            seconds = time.monotonic() - t0
            self.reporter.progress_done(label, digest.size, seconds)
            etag, version = getattr(uploaded, "etag", None) or None, getattr(uploaded, "version_id", None)
            return SnapshotResult(
                pod, key, digest.size, digest.sha256, seconds + saved.seconds, etag, version, revision
            )
        finally:
            self.remove(saved)

    def remove(self, saved: Saved) -> None:
        """Removes a saved snapshot's scratch file (and etcdctl's .part); safe to repeat."""
        self._remove(saved.pod, saved.path)

    def _revision(self, pod: str, path: str) -> int | None:
        """The revision the snapshot holds, from the file itself (etcdutl since etcd 3.5, etcdctl's
        deprecated twin before 3.6); None when neither tool can say."""
        for tool in ("etcdutl", "etcdctl"):
            try:
                code, out, _ = self._run(pod, [tool, "snapshot", "status", path, "-w", "json"])
                if code == 0:
                    return int(json.loads(out)["revision"])
            except Exception:  # no such tool in this image, or an answer of another form
                continue
        return None

    def _file_size(self, pod: str, path: str) -> int:
        """The snapshot file's size, which the upload is checked against: unknown is a failure."""
        code, out, err = self._run(pod, ["stat", "-c", "%s", path])
        if code != 0 or not out.strip().isdigit():
            raise StepFailed(
                f"cannot read the size of {path} in {self.ns}/{pod}: {err.decode(errors='replace').strip()}"
            )
        return int(out.strip())

    def _remove(self, pod: str, path: str) -> None:
        try:
            self._run(pod, ["rm", "-f", "--", *own_files(path)])
        except Exception as e:
            self.reporter.line(f"warning: could not remove {path} in {self.ns}/{pod}: {e}")
