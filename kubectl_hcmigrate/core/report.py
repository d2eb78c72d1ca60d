"""Outcomes, the errors that lead to them, and the one table mapping them to exit codes."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol


class Outcome(str, enum.Enum):
    SUCCEEDED = "SUCCEEDED"
    SUCCEEDED_WITH_WARNINGS = "SUCCEEDED_WITH_WARNINGS"
    # Refused before any change: bad input, failed preflight or guard.
    REFUSED = "REFUSED"
    # Failed after changing the source, and every undo succeeded.
    FAILED_SOURCE_RESTORED = "FAILED_SOURCE_RESTORED"
    # Failed, and something may differ from before the command: read the message.
    FAILED_NEEDS_ATTENTION = "FAILED_NEEDS_ATTENTION"
    # The work was applied but the wait for readiness ran out.
    TIMED_OUT = "TIMED_OUT"
    INTERRUPTED = "INTERRUPTED"
    # The command line itself is wrong (the parser says so): nothing was read or changed.
    USAGE_ERROR = "USAGE_ERROR"


# The documented exit codes (README "Exit codes"); a usage error's 2 is the CLI parser's too.
EXIT_CODES: dict[Outcome, int] = {
    Outcome.SUCCEEDED: 0,
    Outcome.SUCCEEDED_WITH_WARNINGS: 0,
    Outcome.FAILED_NEEDS_ATTENTION: 1,
    Outcome.REFUSED: 3,
    Outcome.FAILED_SOURCE_RESTORED: 4,
    Outcome.TIMED_OUT: 5,
    Outcome.INTERRUPTED: 130,
    Outcome.USAGE_ERROR: 2,
}


class HcmigrateError(Exception):
    """An error with a one-line message that says what is wrong and what to do."""

    outcome: Outcome = Outcome.FAILED_NEEDS_ATTENTION


class PreflightError(HcmigrateError):
    """Refused before any change."""

    outcome = Outcome.REFUSED


class StepFailed(HcmigrateError):
    """A step failed after changes were made."""


class S3Error(StepFailed):
    """An S3 call failed after preflight."""


class ObjectMissing(S3Error):
    """The object asked for is not in the bucket."""


@contextmanager
def nothing_changed() -> Iterator[None]:
    """Around code that has changed nothing: whatever fails is a refusal (exit 3), never exit
    1's "something may differ". Verbs that only read run wholly inside it."""
    try:
        yield
    except PreflightError:
        raise
    except HcmigrateError as e:
        raise PreflightError(str(e)) from None


def counted(**lists: list[str]) -> dict[str, int | list[str]]:
    """Per-object lists in a result, each with its count beside it, always of the same types:
    `created` (a list of `Kind ns/name`) and `objects_created` (a number)."""
    return {k: v for name, items in lists.items() for k, v in ((f"objects_{name}", len(items)), (name, items))}


class NamesHC(Protocol):
    """A verb's options: they name the hosted cluster it works on."""

    @property
    def name(self) -> str: ...
    @property
    def namespace(self) -> str: ...


def succeeded(opts: NamesHC, **fields: Any) -> dict[str, Any]:
    """A verb's result: SUCCEEDED for its HC, then its own fields (pipeline.run_verb lowers the
    outcome when the run left warnings)."""
    return {"outcome": Outcome.SUCCEEDED.value, "hostedcluster": f"{opts.namespace}/{opts.name}", **fields}


def step_seconds(timings: Mapping[str, float]) -> dict[str, float]:
    """Each step's seconds as a result reports them."""
    return {k: round(v, 2) for k, v in timings.items()}
