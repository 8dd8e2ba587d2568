"""Argon2 at its cheapest in the test processes, as the shipped hasher in every other respect.

Argon2id costs ~0.12 s of CPU per hash and per check at the shipped parameters (on purpose: it is what slows a
stolen table's cracking). The suite hashed ~235 passwords and checked ~560 logins, ~95 s of its workers' time,
none of it testing the cost. In the test processes the hasher uses argon2-cffi's cheapest profile and the
unknown user's stand-in hash is made with it, so a known and an unknown user still cost the same. What is
shipped stays under test: `SHIPPED_HASHER` and `SHIPPED_DUMMY_HASH` are the module's own values (tests/policy
holds them to each other), and servers or commands run as their own processes (the kill tests, the operator
guide, `dragonnet serve`) hash at the shipped cost; they check a cheap hash and store a rehash at first login.
"""

from __future__ import annotations

import argon2

from dragonnet.policy import passwords, users

SHIPPED_HASHER = passwords._hasher
SHIPPED_DUMMY_HASH = passwords.DUMMY_HASH
STAND_IN = "not-a-real-password-but-same-cost"  # the text the shipped stand-in hash is of


def install() -> None:
    cheap = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    passwords._hasher = cheap
    passwords.DUMMY_HASH = users.DUMMY_HASH = cheap.hash(STAND_IN)
