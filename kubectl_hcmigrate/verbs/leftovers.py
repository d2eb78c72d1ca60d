"""What killed runs of a backup left behind, cleared by the next run of the same HC: unfinished
multipart uploads in the bucket and snapshot scratch files in the etcd pods. This run holds the
HC's lease, so any other run of it ended (released, expired or died): nothing here is live."""

from __future__ import annotations

from kubectl_hcmigrate.core.layout import backup_of_key, run_of_backup_id
from kubectl_hcmigrate.core.pipeline import warn
from kubectl_hcmigrate.core.ports import BucketPort, KubeError, KubePort, Reporter
from kubectl_hcmigrate.core.report import HcmigrateError
from kubectl_hcmigrate.etcd.scratch import remove_leftovers


def abort_ended_uploads(bucket: BucketPort, prefix: str, own_backup_id: str, reporter: Reporter) -> None:
    """Each key holds its run's id. One from before run ids can belong to a live run of an older
    version: it is left, and said."""
    for key, _ in bucket.list_incomplete_uploads(prefix):
        found = backup_of_key(key)
        run = run_of_backup_id(found.backup_id) if found else None
        if run is None:
            reporter.line(f"left an unfinished upload of {bucket.full_key(key)}: nothing says its run ended")
        elif found is not None and found.backup_id != own_backup_id:
            for done in bucket.abort_incomplete_uploads(found.snapshot_key):
                reporter.line(f"aborted an unfinished upload of {bucket.full_key(done)} left by ended run {run}")


def remove_scratch_leftovers(kube: KubePort, hcp_ns: str, pods: list[str], reporter: Reporter) -> None:
    """A killed run cannot remove its scratch file; like the uploads, removing it is no change to
    put back, and a failure here only warns: the snapshot can still be taken."""
    try:
        for where in remove_leftovers(kube, hcp_ns, pods, keep=set()):
            reporter.line(f"removed {hcp_ns}/{where}, left by an interrupted run")
    except (HcmigrateError, KubeError) as e:
        warn(str(e))
