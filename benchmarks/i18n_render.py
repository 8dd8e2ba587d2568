"""Page rendering time with the languages machinery against the same pages without it.

    python benchmarks/i18n_render.py [--requests 400] [--locales en,fr,zh_Hans,vi]

A throwaway SQLite database with one operation, an administrator and a reporter; the pages are requested
through the whole app (FastAPI's TestClient: routing, session, policy, rendering), one after the other:

* **bare**: the i18n machinery short-circuited: no locale selection (English) and gettext answered by an empty
  `NullTranslations` (what Jinja2's i18n extension costs at the least);
* **<locale>**: as served: the locale chosen per request (here from Accept-Language), every text looked up in
  that locale's compiled catalogue, numbers and country names through Babel.

Prints the median and p90 time per page and the ratio of each locale to bare. The issue's bar: not worse
than 10% (ratio <= 1.10).
"""

from __future__ import annotations

import argparse
import gettext
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from dragonnet import i18n
from dragonnet.app import create_app
from dragonnet.config import Settings
from dragonnet.operation import manage
from dragonnet.policy import users
from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine, session_scope
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Agency
from dragonnet.web import templating

PASSWORD = "benchmark-password-1234"
SLUG = "bench-dragon"


def _world(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        session.add(Agency(code="TH-CUS", name="Thai Customs", country="TH", kind="customs"))
        session.flush()
        admin = users.create_user(session, username="admin", password=PASSWORD, agency_code="TH-CUS",
                                  roles=["administrator"])  # fmt: skip
        users.create_user(session, username="reporter", password=PASSWORD, agency_code="TH-CUS", roles=["reporter"])
        actor = Actor.for_user(admin, "127.0.0.1")
        manage.create_operation(session, actor, slug=SLUG, name="Bench Dragon", scope=["drug", "wildlife"])
        manage.set_phase(session, actor, SLUG, name="Phase I", start=_date(2023, 1, 1), end=_date(2023, 12, 31))
        manage.join(session, actor, SLUG, "TH-CUS", "lead")
    engine.dispose()


def _date(y: int, m: int, d: int) -> object:
    import datetime as dt

    return dt.date(y, m, d)


def _login(client: TestClient, username: str) -> None:
    import re

    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    assert token is not None
    done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)})
    assert done.status_code == 303, done.text


PAGES = (f"/operations/{SLUG}", f"/operations/{SLUG}/cases", "/account", f"/admin/operations/{SLUG}")


def _bare() -> tuple[object, object]:
    """Short-circuit the machinery; returns what to put back."""
    empty = gettext.NullTranslations()
    saved = (i18n.translations, templating.request_locale)
    i18n.translations = lambda locale: empty  # type: ignore[assignment]
    templating.request_locale = lambda request, auth, slug=None: "en"  # type: ignore[assignment]
    return saved


def _one(client: TestClient, path: str, mode: str) -> float:
    saved = _bare() if mode == "bare" else None
    try:
        started = time.perf_counter()
        answer = client.get(path, headers={"Accept-Language": "en" if mode == "bare" else mode.replace("_", "-")})
        elapsed = time.perf_counter() - started
    finally:
        if saved is not None:
            i18n.translations, templating.request_locale = saved  # type: ignore[assignment]
    assert answer.status_code == 200, (path, answer.status_code)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per page and mode")
    parser.add_argument("--locales", default="en,fr,zh_Hans,vi")
    args = parser.parse_args()
    modes = ["bare", *args.locales.split(",")]
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        _world(url)
        settings = Settings(database_url=url, data_dir=Path(folder), secret_key="bench-secret", session_hours=8,
                            secure_cookies=False)  # fmt: skip
        with TestClient(create_app(settings), follow_redirects=False) as client:
            _login(client, "admin")
            for path in PAGES:  # warm up: templates compiled, catalogues loaded
                for mode in modes:
                    _one(client, path, mode)
            # Interleaved: each request of a page in every mode in turn, so drift on a shared machine hits all alike.
            for _n in range(args.requests):
                for path in PAGES:
                    for mode in modes:
                        times.setdefault((path, mode), []).append(_one(client, path, mode))
    print(f"{'page':<34} " + " ".join(f"{m:>14}" for m in modes))
    worst = 0.0
    for path in PAGES:
        bare = statistics.median(times[(path, "bare")])
        cells = []
        for mode in modes:
            median = statistics.median(times[(path, mode)])
            worst = max(worst, median / bare)
            cells.append(f"{median * 1000:6.2f} ms {median / bare:4.2f}")
        print(f"{path:<34} " + " ".join(f"{c:>14}" for c in cells))
    print(f"median time per page and its ratio to bare; worst ratio {worst:.2f} (bar: 1.10)")


if __name__ == "__main__":
    main()
