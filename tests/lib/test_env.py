from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from mutualist.lib.env import env_bool, env_choice, env_int, env_list, parse_database_url


def test_booleans_accept_common_words_and_refuse_the_rest() -> None:
    assert env_bool("X", False, {"X": "yes"}) is True
    assert env_bool("X", True, {"X": "0"}) is False
    assert env_bool("X", True, {}) is True
    with pytest.raises(ImproperlyConfigured, match="X='ture' is not a boolean"):
        env_bool("X", False, {"X": "ture"})


def test_choice_names_the_variable_and_the_allowed_values() -> None:
    with pytest.raises(ImproperlyConfigured, match="MODE='prod' is not allowed; use one of: a, b"):
        env_choice("MODE", ("a", "b"), "a", {"MODE": "prod"})


def test_int_and_list() -> None:
    assert env_int("N", 3, {"N": "12"}) == 12
    with pytest.raises(ImproperlyConfigured, match="N='twelve' is not a whole number"):
        env_int("N", 3, {"N": "twelve"})
    assert env_list("H", [], {"H": "a.example, b.example"}) == ["a.example", "b.example"]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("H", [], {"H": "a.example,,b"})


def test_database_urls() -> None:
    pg = parse_database_url("DB", "postgresql://u:p%40ss@db.local:5433/mut")
    assert pg.as_django()["ENGINE"] == "django.db.backends.postgresql"
    assert (pg.user, pg.password, pg.host, pg.port, pg.name) == (
        "u",
        "p@ss",
        "db.local",
        "5433",
        "mut",
    )
    assert parse_database_url("DB", "sqlite:////var/lib/m.db").name == "/var/lib/m.db"
    assert parse_database_url("DB", "sqlite:///var/m.db").name == "var/m.db"
    with pytest.raises(ImproperlyConfigured, match="DB='mysql://x/y' has an unsupported scheme"):
        parse_database_url("DB", "mysql://x/y")
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        parse_database_url("DB", "postgresql://host/")
