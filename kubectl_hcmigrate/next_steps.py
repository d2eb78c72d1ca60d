"""The last line of a verb's text output: what to run next, spelled out with the flags the user
needs (the cluster always named: `--context`), from the result's own fields."""

from __future__ import annotations

from typing import Any

SUCCEEDED = ("SUCCEEDED", "SUCCEEDED_WITH_WARNINGS")


def _hc(doc: dict[str, Any]) -> str:
    ns, _, name = str(doc.get("hostedcluster", "NAMESPACE/NAME")).partition("/")
    return f"--hc {name} -n {ns}"


def next_step(doc: dict[str, Any], prog: str) -> str | None:
    """None: nothing to suggest (a failure says what to do in its error line)."""
    if doc.get("outcome") not in SUCCEEDED:
        return None
    if doc.get("dry_run"):
        return "run the same command without --dry-run"
    kind, hc = doc.get("kind"), _hc(doc)
    if kind == "BackupResult":
        bucket = f"--bucket {doc['bucket']} --backup-id {doc['backup_id']}"
        return f"{prog} restore {hc} {bucket} --context DESTINATION"
    if kind == "VerifyResult":
        return f"{prog} restore {hc} --backup-id {doc.get('backup_id')} --bucket BUCKET --context DESTINATION"
    if kind == "RestoreResult":
        return f"{prog} teardown {hc} --context SOURCE --to-context {doc.get('destination_context')}"
    if kind == "MigrateResult" and doc.get("next_steps"):  # the hosted cluster could not be reached
        return "restart the OVN pods in the hosted cluster: " + " ; ".join(doc["next_steps"])
    if kind in ("TeardownResult", "MigrateResult"):
        where = doc.get("destination_context")
        return f"nothing: {doc.get('hostedcluster')} runs on context {where}; its backup stays in the bucket"
    return None
