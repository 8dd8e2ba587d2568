"""Does a screening's time depend on what the screener may not see? (issue #16, docs/benchmarks.md)

A screening is matched against the parties the screener may see and, in the same run, those it may not (they
give screening notices: `linkage.screening.notices`), so that its time tells nothing of what is hidden. This
script builds the demo operation (quick: cases only) in a temporary SQLite database, screens the same list of
N names (half of them people of the operation's cases, half made up) as members of agencies that see very
different shares of the parties, and prints, per user, the parties seen and hidden, the hits and notices, and the
median time; then the bare engine (`match_lists` on the same list against every eligible party, no policy, no
database) in the same run, and each user's ratio to it.

`--encoded`: the privacy-preserving screening instead (`screen_encoded`: the list encoded as a sender encodes it,
the hub encoding the parties seen and hidden in the same run); the bare engine is then the hub's encoding of every
eligible party and `match_encoded` on the same encodings, no policy, no database.

    .venv/bin/python benchmarks/screening_hidden.py [--rows 200] [--repeats 3] [--encoded]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dragonnet.demo import build_demo
from dragonnet.linkage import pprl
from dragonnet.linkage.resolve import PartyInput
from dragonnet.linkage.screening import encoded, service
from dragonnet.linkage.screening.matching import DEFAULT_THRESHOLD, match_lists
from dragonnet.linkage.screening.notices import hidden_reference
from dragonnet.linkage.screening.reader import read_list
from dragonnet.policy.access import Actor
from dragonnet.storage.db import make_engine
from dragonnet.storage.migrate import upgrade
from dragonnet.storage.models import Case, Operation, Party, User

USERS = ("vn.reporter", "th.reporter", "kh.reporter", "rilo.analyst")
KEY = b"benchmark-operation-linkage-key-0123"  # the operation's shared linkage key (--encoded)


def _list(session: Session, rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    people = session.execute(
        select(Party.name, Party.birth_date, Party.nationality, Party.id_number).join(Case, Case.id == Party.case_id)
        .where(Party.kind == "person", Case.status != "draft").order_by(Party.id)
    ).all()  # fmt: skip
    chosen = rng.sample(people, min(rows // 2, len(people)))
    lines = ["Name,Date of birth,Nationality,Passport"]
    lines += [f"{n},{d.isoformat() if d else ''},{c or ''},{p or ''}" for n, d, c, p in chosen]
    for i in range(rows - len(chosen)):
        lines.append(f"Made Up Person {i},19{50 + i % 50}-0{1 + i % 9}-1{i % 9},PL,ZZ{100000 + i}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _actor(session: Session, username: str) -> Actor | None:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    return Actor.for_user(user) if user is not None else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--encoded", action="store_true", help="the privacy-preserving screening")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="screening-hidden-"))
    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    started = time.perf_counter()
    with Session(engine) as session:
        build_demo(session, seed=2023)
        session.commit()
    print(f"demo built in {time.perf_counter() - started:.0f} s ({folder})", file=sys.stderr)
    with Session(engine) as session:
        op = session.execute(select(Operation)).scalars().first()
        assert op is not None
        data = _list(session, args.rows, 7)
        sent = encoded.encode_list(data, "list.csv", KEY)[0].dumps() if args.encoded else b""
        what = "encoded list" if args.encoded else "list"
        print(f"{what}: {args.rows} rows; threshold {DEFAULT_THRESHOLD}; median of {args.repeats} runs each")
        print(f"{'user':<14} {'seen':>6} {'hidden':>6} {'hits':>5} {'notices':>7} {'seconds':>8} {'ratio':>6}")
        # The bare engine: the same list against every eligible party (what every screening matches).
        rows = [r.party for r in read_list(data, "list.csv", kind="person").rows]
        everyone = [
            PartyInput(p.id, p.kind, p.name, p.nationality, p.birth_date, p.id_number, p.phone, p.email,
                       country, p.address)
            for p, country in session.execute(
                select(Party, Case.place_country).join(Case, Case.id == Party.case_id)
                .where(Case.operation_id == op.id, Case.status != "draft", Party.kind == "person")
            ).all()
        ]  # fmt: skip
        actors = {u: a for u in USERS if (a := _actor(session, u)) is not None}
        times: dict[str, list[float]] = {u: [] for u in actors}
        bare_times: list[float] = []
        timed: dict[str, tuple[int, int, int, int, float]] = {}
        for _ in range(args.repeats):  # round robin, the bare engine too: a busy machine slows each alike
            for username, actor in actors.items():
                t0 = time.perf_counter()
                result: service.Screening | encoded.EncodedScreening
                if args.encoded:
                    result = encoded.screen_encoded(session, actor, operation=op.slug, data=sent,
                                                    filename="list.encoded.json", secret=KEY)  # fmt: skip
                else:
                    result = service.screen(session, actor, operation=op.slug, data=data, filename="list.csv")
                times[username].append(time.perf_counter() - t0)
                session.rollback()
                hidden = len(hidden_reference(session, actor, op.id, "person").parties)
                timed[username] = (result.case_parties, hidden, len(result.hits), len(result.notices), 0.0)
            t0 = time.perf_counter()
            if args.encoded:
                listed = encoded.load_encoded(sent, "list.encoded.json").rows
                encodings = [pprl.Encoding(str(r.row), "list", r.kind, r.bits, r.blocks) for r in listed]
                encoded.match_encoded(encodings, pprl.encode_parties(everyone, "hub", KEY), threshold=DEFAULT_THRESHOLD)
            else:
                match_lists(rows, everyone, threshold=DEFAULT_THRESHOLD)
            bare_times.append(time.perf_counter() - t0)
        timed = {u: (*v[:4], statistics.median(times[u])) for u, v in timed.items()}
        bare = statistics.median(bare_times)
        for username, (seen, hidden, hits, notices, seconds) in timed.items():
            print(f"{username:<14} {seen:>6} {hidden:>6} {hits:>5} {notices:>7} {seconds:>8.2f} "
                  f"{seconds / bare:>6.2f}")  # fmt: skip
        print(f"{'bare engine':<14} {len(everyone):>6} {'':>6} {'':>5} {'':>7} {bare:>8.2f} {1.0:>6.2f}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
