"""A step made of Changes: each a line for --dry-run and the call that makes it. The list is
built again when the step runs, so a re-run skips what is already done, and each change is
recorded as it begins (pipeline.changed), so the outcome knows what was touched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubectl_hcmigrate.core.pipeline import Step, changed
from kubectl_hcmigrate.core.ports import KubeError, Reporter


@dataclass(frozen=True)
class Change:
    """One write: the line --dry-run prints, and the call that makes it."""

    what: str
    do: Callable[[], object]


def change_step(
    name: str,
    changes: Callable[[], list[Change]],
    after: Callable[[], None] = lambda: None,
    reporter: Reporter | None = None,
) -> Step:
    """With a reporter, a long run of changes (a thousand Machines to delete) counts `n/N`."""

    def run() -> None:
        todo = changes()
        for n, change in enumerate(todo):
            if reporter is not None:
                reporter.count(name, n, len(todo))
            changed(change.what)
            try:
                change.do()
            except KubeError as e:
                if e.status != 404:  # gone meanwhile (its namespace is going): as good as done
                    raise
        after()

    return Step(name, run, changes=lambda: [c.what for c in changes()])
