"""The command line: clear one-line errors, exit codes, and the foundation commands end to end."""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dragonnet.cli.main import app
from dragonnet.storage.db import make_engine
from dragonnet.storage.models import Agency, Case, User

runner = CliRunner()


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "error: not a database URL: 'nonsense'"),
        ("mysql://u@h/db", "error: unsupported database 'mysql'"),
        ("postgresql://u:topsecret@127.0.0.1:1/db", "error: cannot open database postgresql"),
    ],
)
def test_wrong_database_url(url: str, message: str) -> None:
    code, out, err = run("init", "--database-url", url)
    assert code == 1
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert "topsecret" not in err
    assert "Traceback" not in out + err


def test_commands_need_an_initialised_database(tmp_path: Path) -> None:
    code, _, err = run("audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 1 and "run `dragonnet init` first" in err


def test_init_is_idempotent_and_users_can_be_created(empty_db_url: str) -> None:
    code, out, _ = run("init", "--database-url", empty_db_url)
    assert code == 0 and "(created)" in out
    code, out, _ = run("init", "--database-url", empty_db_url)
    assert code == 0 and "(up to date)" in out
    engine = make_engine(empty_db_url)
    with Session(engine) as s:
        s.add(Agency(code="VN-CUS", name="Viet Nam Customs", kind="customs", country="VN"))
        s.commit()
    code, out, err = run(
        "users", "create", "vn.officer", "--agency", "VN-CUS", "--role", "reporter", "--password-stdin",
        "--database-url", empty_db_url, input="a long enough passphrase\n",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(
        "users", "create", "vn.weak", "--agency", "VN-CUS", "--role", "reporter", "--password-stdin",
        "--database-url", empty_db_url, input="short\n",
    )  # fmt: skip
    assert code == 1 and "at least 12 characters" in err
    code, out, _ = run("users", "list", "--json", "--database-url", empty_db_url)
    assert '"vn.officer"' in out and "vn.weak" not in out
    code, out, _ = run("audit", "verify", "--database-url", empty_db_url)
    assert code == 0 and "audit chain intact: 1 entries" in out
    anchor = out.split("anchor: ", 1)[1].split()[0]
    assert anchor.startswith("1:") and len(anchor) == 66
    code, out, _ = run("audit", "verify", "--anchor", anchor, "--database-url", empty_db_url)
    assert code == 0 and "1 anchor(s) match" in out
    forged = "1:" + "0" * 64
    code, _, err = run("audit", "verify", "--anchor", forged, "--database-url", empty_db_url)
    assert code == 1 and "differs from its anchor" in err
    code, _, err = run("audit", "verify", "--anchor", "5:" + "0" * 64, "--database-url", empty_db_url)
    assert code == 1 and "anchored entry 5 is gone" in err
    code, _, err = run("audit", "verify", "--anchor", "nonsense", "--database-url", empty_db_url)
    assert code == 1 and "SEQ:HASH" in err
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(User)).scalar_one() == 1
    engine.dispose()


def test_reference_versions_and_lookups() -> None:
    code, out, _ = run("reference")
    assert code == 0
    for name in ("countries", "places", "cites", "substances"):
        assert name in out
    assert "UNEP-WCMC" in out
    code, out, _ = run("reference", "country", "Việt Nam")
    assert code == 0 and "alpha2: VN" in out
    code, _, err = run("reference", "country", "Atlantis")
    assert code == 1 and err.startswith("error: unknown country 'Atlantis'")
    code, out, _ = run("reference", "taxon", "Manis javanica")
    assert code == 0 and "cites_listing:" in out
    code, out, _ = run("reference", "substance", "ya ba")
    assert code == 0 and "methamphetamine" in out.lower()


@pytest.mark.slow
def test_demo_builds_once_and_reports_logins(empty_db_url: str) -> None:
    code, out, err = run("demo", "--database-url", empty_db_url)
    assert code == 0, err
    assert "Demo logins" in out and "vn.reporter" in out
    engine = make_engine(empty_db_url)
    with Session(engine) as s:
        cases = s.execute(select(func.count()).select_from(Case)).scalar_one()
    assert cases > 3000
    code, out, _ = run("demo", "--database-url", empty_db_url)
    assert code == 0 and "left as is" in out
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == cases
    code, out, _ = run("audit", "verify", "--database-url", empty_db_url)
    assert code == 0 and "intact" in out
    engine.dispose()


def test_a_command_loads_only_its_own_capability() -> None:
    """The capabilities' commands are built when asked for: starting the CLI imports none of their modules, and
    running one imports its module only."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from dragonnet.cli.main import app\n"
        "before = sorted(m for m in sys.modules if m.startswith('dragonnet.cli.'))\n"
        "assert CliRunner().invoke(app, ['report', '--help']).exit_code == 0\n"
        "after = sorted(m for m in sys.modules if m.startswith('dragonnet.cli.'))\n"
        "print(' '.join(before)); print(' '.join(after))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = (set(line.split()) for line in done.stdout.splitlines())
    assert before == {"dragonnet.cli.admin", "dragonnet.cli.common", "dragonnet.cli.main"}
    assert after - before == {"dragonnet.cli.report"}


def test_the_help_lists_every_command_with_its_own_help() -> None:
    """Built lazily or not, every command is listed under its name, with the help its module gives it."""
    from dragonnet.cli.main import LAZY

    code, out, _ = run("--help")
    assert code == 0
    for name, build in LAZY.items():
        command = build()
        assert f" {name} " in out, name
        summary = (command.help or "").split(".")[0].split()[:4]
        assert " ".join(summary) in " ".join(out.split()), name
        sub_code, sub_out, _ = run(name, "--help")
        assert sub_code == 0 and f"dragonnet {name}" in sub_out, name
