"""What a command run in a pod said: its exit status (the exec protocol's v1 Status), a label
for it that shows no secret argument, and the error when it failed."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence

from kubectl_hcmigrate.core.report import StepFailed


class ExecFailed(StepFailed):
    """The command failed, could not start, or it is unknown whether it succeeded."""

    def __init__(
        self,
        pod: str,
        command: str,
        exit_code: int | None,
        stderr_tail: bytes,
        reason: str = "",
        *,
        started: bool = True,
    ) -> None:
        self.pod, self.command, self.exit_code = pod, command, exit_code
        self.stderr_tail = stderr_tail
        lines = stderr_tail.decode("utf-8", "replace").strip().splitlines()
        said = lines[-1].strip()[:300] if lines else "no error output"
        if not started:
            message = f"cannot exec {command} in pod {pod}: {reason}"
        elif exit_code is None:
            message = f"{command} in pod {pod} gave no exit status: {reason or said}"
        else:
            message = f"{command} in pod {pod} exited with code {exit_code}: {said}"
        super().__init__(message)


def command_label(argv: Sequence[str]) -> str:
    """argv[0] and its subcommand only: later arguments could hold something secret."""
    label = os.path.basename(argv[0]) if argv else "command"
    previous = ""
    for arg in argv[1:]:
        if not arg.startswith("-"):
            # After "--flag" without "=", this word may be the flag's value.
            if not previous and re.fullmatch(r"[a-z][a-z0-9-]{0,30}", arg):
                label += f" {arg}"
            break
        previous = "" if "=" in arg else arg
    return label


def parse_status(payload: bytes) -> tuple[int | None, str]:
    """(exit code, or None with the reason) from the status channel's v1 Status."""
    try:
        status = json.loads(payload)
    except ValueError:
        status = None
    if not isinstance(status, dict):
        return None, "the exit status could not be read"
    if status.get("status") == "Success":
        return 0, ""
    message = str(status.get("message") or status.get("reason") or "exec failed").strip()
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).isdigit():
                return int(cause["message"]), ""
    # Runtimes that skip NonZeroExitCode (kwok among them) end the message with it.
    found = re.search(r"exit (?:status|code) (\d+)$", message)
    if found:
        return int(found.group(1)), ""
    return None, (message.splitlines() or ["exec failed"])[0][:300]


def redact(text: str, argv: Sequence[str]) -> str:
    """`text` without the arguments after argv[0]: runtimes quote the command line."""
    for arg in sorted(argv[1:], key=len, reverse=True):
        if len(arg) > 2:
            text = text.replace(arg, "...")
    return text
