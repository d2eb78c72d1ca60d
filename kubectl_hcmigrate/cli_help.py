"""What the command line says about itself: the name it was started under, the examples under
--help, and the shells completion serves."""

from __future__ import annotations

import enum
import os
import sys


def prog_name() -> str:
    """`kubectl hcmigrate` or `oc hcmigrate`, after the name we were started as."""
    base = os.path.basename(sys.argv[0]) if sys.argv else ""
    return "oc hcmigrate" if base.startswith("oc-") else "kubectl hcmigrate"


def _examples(prog: str) -> str:
    """The help epilog: one example per verb, so --help reads like a short manual."""
    examples = [
        ("Back up a hosted cluster and its etcd to S3", "backup --hc example -n clusters --bucket my-bucket"),
        (
            "Restore it on another management cluster",
            "restore --hc example -n clusters --bucket my-bucket --context destination",
        ),
        (
            "Or all three in one command that a re-run carries on",
            "migrate --hc example -n clusters --bucket my-bucket --context source --to-context destination",
        ),
        (
            "Remove it from the source once it runs on the destination",
            "teardown --hc example -n clusters --context source --to-context destination",
        ),
        ("List the backups in a bucket, newest first", "list --bucket my-bucket"),
        (
            "Check the newest backup of an HC, reading the whole snapshot",
            "verify --hc example --bucket my-bucket --deep",
        ),
        ("Print the version as JSON", "-o json version"),
        ("Turn on shell completion (bash, zsh or fish)", "completion bash > ~/.hcmigrate-completion.bash"),
    ]
    # "\b" keeps click from re-wrapping a paragraph: each example stays on its own lines.
    return "Examples:\n\n" + "\n\n".join(f"\b\n  # {what}\n  {prog} {cmd}" for what, cmd in examples)


class Shell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def _completion_var() -> str:
    """The variable a completion script sets when it calls us back for candidates."""
    # Named after the executable: Click would derive it from prog_name, which has a space.
    return "_" + prog_name().replace(" ", "_").upper() + "_COMPLETE"
