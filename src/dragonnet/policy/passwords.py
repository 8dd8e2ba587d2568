"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dragonnet.errors import ValidationError

# argon2-cffi's defaults are Argon2id with RFC 9106's low-memory profile.
_hasher = PasswordHasher()

MIN_LENGTH = 12
COMMON = frozenset({"password1234", "123456789012", "qwertyuiopas", "dragonnet123", "changeme1234"})


def check_policy(password: str, *, username: str = "") -> None:
    """A password of at least 12 characters, not the username, not a well-known one."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(f"password must have at least {MIN_LENGTH} characters")
    if len(password) > 256:
        raise ValidationError("password must have at most 256 characters")
    if username and username.lower() in password.lower():
        raise ValidationError("password must not contain the username")
    if password.lower() in COMMON or len(set(password)) < 5:
        raise ValidationError("password is too easy to guess")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Verified against when the username is unknown, so both paths cost the same (no user-enumeration timing).
# A stored hash of a throwaway text with the hasher's parameters (tests/policy/test_users.py holds them equal):
# hashing it at import cost every process that imports the app ~0.15 s. Not a secret: nobody's password.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$0P+v9AfFzj4k7qtHDRX3Tw$TtCdty0XCF45GabeRJg2bssnHwVgPgV9lfR0BcRnh9Q"
