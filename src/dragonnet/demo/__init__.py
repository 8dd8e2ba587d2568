"""The deterministic demo operation "Mekong Dragon": real agencies and places, invented cases and people.

`build_demo(session, seed=2023)` fills an empty, migrated database in the caller's transaction and returns a
`DemoSummary`; `demo_logins()` lists the demo accounts (all with `DEMO_PASSWORD`); `planted_networks(seed)`
is the ground truth of the trafficking rings hidden in the cases. See README.md for the counting rules the
demo reproduces exactly.
"""

from __future__ import annotations

from dragonnet.demo.generator import DEMO_PASSWORD, DemoSummary, build_demo, demo_logins, planted_networks
from dragonnet.demo.plan import PlantedMember, PlantedNetwork

__all__ = [
    "DEMO_PASSWORD",
    "DemoSummary",
    "PlantedMember",
    "PlantedNetwork",
    "build_demo",
    "demo_logins",
    "planted_networks",
]
