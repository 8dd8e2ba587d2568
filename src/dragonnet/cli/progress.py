"""The one progress bar of the command line: rich, on stderr, only on a terminal and never under --json.

    with progress_bar("importing cases.xlsx", enabled=not as_json) as progress:
        do_the_work(..., progress=progress)

The bar is transient (it disappears when the work ends, leaving the command's own output alone).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dragonnet.progress import Progress, no_progress


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, *, enabled: bool = True, total: int | None = None) -> Iterator[Progress]:
    """A `Progress` drawing a bar on stderr, or `no_progress` when disabled or stderr is not a terminal."""
    if not enabled or not stderr_is_terminal():
        yield no_progress
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with RichProgress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, total: int | None = None, stage: str | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            if stage:
                bar.update(task, description=f"{description}: {stage}")
            bar.update(task, completed=done)

        yield update
