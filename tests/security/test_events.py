"""The live inbox stream `/messages/events` (left out of the access matrix: its responses never end there).

With `?timeout=0` the stream polls once and ends, so TestClient can read it; `after=0` replays every inbox
message the viewer may receive. Anonymous callers are refused; a logged-in user never gets a message about
an alert or bulletin the oracle hides from them (their canaries are in the subjects).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from security.sessions import open_sessions, use
from security.world import World

STREAM = "/messages/events?timeout=0&after=0"


def test_anonymous_gets_no_stream(client: TestClient, world: World) -> None:
    use(client, None)
    r = client.get(STREAM)
    assert r.status_code in (302, 303, 307, 401), r.status_code
    assert r.status_code == 401 or "/login" in r.headers["location"]
    assert not any(m.canary in r.text for m in world.messages)


@pytest.mark.parametrize("who", ["vn_reporter", "la_coord", "analyst", "observer", "admin"])
def test_stream_carries_only_what_the_viewer_may_see(client: TestClient, world: World, db_url: str, who: str) -> None:
    use(client, open_sessions(db_url, [who])[who])
    r = client.get(STREAM)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    hidden = [m.canary for m in world.messages if not world.sees_message(who, m)]
    assert hidden, "the world must hide some messages from every viewer"
    leaked = [c for c in hidden if re.search(re.escape(c) + r"(?!\d)", r.text)]
    assert not leaked, f"{who} received inbox events about hidden messages: {leaked}"
    # The stream does deliver: messages sent to the viewer's agency appear (the check above can fail).
    agency = world.user_agency[who]
    addressed = [m.canary for m in world.messages if agency in m.recipients and world.sees_message(who, m)]
    assert addressed or agency == "UNODC"
    assert all(c in r.text for c in addressed), (addressed, r.text[:500])
