"""What every dragonnet command shares: the database option, one-line errors, opening the database."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dragonnet.config import InvalidSetting, load_settings
from dragonnet.errors import DragonnetError, NotFound
from dragonnet.policy.access import Actor
from dragonnet.storage.db import has_schema, make_engine, redact

P = ParamSpec("P")
R = TypeVar("R")

DatabaseOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Database URL (default: $DRAGONNET_DATABASE_URL or SQLite under ./var)."),
]


AsUserOption = Annotated[
    str | None,
    typer.Option("--as", "--user", help="Act as this user: see what they may see; the audit log names them."),
]

# The shared folder and settings of a batch job on an existing Spark cluster (linkage run, targeting score).
SparkDirOption = Annotated[
    str | None,
    typer.Option(
        "--spark-dir",
        help="With --spark-master of a cluster: a folder this machine and the cluster both read and write "
        "(shared mount, hdfs://, s3a://); the run's input and results go there as Parquet.",
    ),
]
SparkConfOption = Annotated[
    list[str] | None, typer.Option("--spark-conf", help="KEY=VALUE Spark setting for the cluster (repeatable).")
]


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def clear_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the user's errors into one line on stderr and exit code 1; bugs still show a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (DragonnetError, InvalidSetting) as exc:
            raise fail(str(exc)) from None

    return wrapper


def open_engine(database_url: str | None, *, need_schema: bool = True) -> Engine:
    """The database engine; unless `need_schema` is off, one at the current schema revision, or exit 1."""
    url = database_url or load_settings().database_url
    if need_schema and url.startswith("sqlite:///") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            # Do not create an empty database file (or its folder) for a mistyped path.
            raise fail(f"no database at {path}: run `dragonnet init` first (or check --database-url)")
    engine = make_engine(url)
    if need_schema and not has_schema(engine):
        raise fail(f"database {redact(url)} has no dragonnet schema yet: run `dragonnet init` first")
    if need_schema:
        from dragonnet.storage.migrate import current_revision, head_revision

        current, head = current_revision(engine), head_revision()
        if current != head:
            raise fail(f"database schema is at revision {current}, this dragonnet needs {head}: run `dragonnet init`")
    return engine


def actor_for(session: Session, username: str) -> Actor:
    """The actor a command runs as (`--as USER`): an active user, matched without regard to case.

    Every command that acts for a user turns the name into an actor here, so the commands cannot differ
    in how they find the user or in what they refuse.
    """
    from dragonnet.policy.users import get_user

    try:
        user = get_user(session, username.strip())
    except NotFound:
        raise fail(f"unknown or disabled user {username!r}") from None
    if not user.is_active:
        raise fail(f"unknown or disabled user {username!r}")
    return Actor.for_user(user, "cli")
