"""API token keys: random, shown once, stored as a SHA-256 hash (a fast hash is right for
high-entropy random keys; slow password hashes are for guessable secrets)."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "mut_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:12]
