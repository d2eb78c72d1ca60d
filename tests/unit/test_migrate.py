"""What a migrate reports when its restore stage fails: one control plane at a time decides it."""

from __future__ import annotations

import pytest

from kubectl_hcmigrate.core.report import EXIT_CODES, Outcome
from kubectl_hcmigrate.verbs.migrate import after_failed_restore


@pytest.mark.parametrize(
    "cause,on_destination,undo_failed,expected,code",
    [
        # The destination has the HC: the source stays paused, whatever the cause.
        (Outcome.TIMED_OUT, True, False, Outcome.TIMED_OUT, 5),
        (Outcome.INTERRUPTED, True, False, Outcome.INTERRUPTED, 130),
        (Outcome.FAILED_NEEDS_ATTENTION, True, False, Outcome.FAILED_NEEDS_ATTENTION, 1),
        (Outcome.REFUSED, True, False, Outcome.FAILED_NEEDS_ATTENTION, 1),
        # It does not: the source was put back, which is what the code says.
        (Outcome.REFUSED, False, False, Outcome.FAILED_SOURCE_RESTORED, 4),
        (Outcome.FAILED_NEEDS_ATTENTION, False, False, Outcome.FAILED_SOURCE_RESTORED, 4),
        (Outcome.INTERRUPTED, False, False, Outcome.INTERRUPTED, 130),
        # Putting it back failed: only a person can say what state it is in.
        (Outcome.REFUSED, False, True, Outcome.FAILED_NEEDS_ATTENTION, 1),
        (Outcome.INTERRUPTED, False, True, Outcome.FAILED_NEEDS_ATTENTION, 1),
    ],
)
def test_the_outcome_of_a_failed_restore_stage(
    cause: Outcome, on_destination: bool, undo_failed: bool, expected: Outcome, code: int
) -> None:
    got = after_failed_restore(cause, hc_on_destination=on_destination, undo_failed=undo_failed)
    assert got is expected and EXIT_CODES[got] == code
