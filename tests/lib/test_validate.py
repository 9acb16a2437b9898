from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mutualist.lib.validate import country_error, domain_error, normalise_domain

labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
domains = st.builds(
    lambda parts, tld: ".".join([*parts, tld]),
    st.lists(labels, min_size=1, max_size=3),
    st.sampled_from(["com", "de", "co.uk", "io"]),
)


@given(
    domains,
    st.sampled_from(["", "http://", "https://", "HTTPS://www."]),
    st.sampled_from(["", "/", "/about?x=1", ":8443/path"]),
)
def test_pasted_urls_normalise_to_the_domain(domain: str, prefix: str, suffix: str) -> None:
    pasted = prefix + domain.upper() + suffix
    assert normalise_domain(pasted) == domain.removeprefix("www.")
    assert domain_error(normalise_domain(pasted)) is None


@given(st.text(max_size=40))
def test_normalise_is_idempotent_and_never_raises(text: str) -> None:
    once = normalise_domain(text)
    assert normalise_domain(once) == once


def test_domain_and_country_errors_say_how_to_fix() -> None:
    assert "example.com" in (domain_error("not a domain") or "")
    assert country_error("DE") is None
    assert "two letters" in (country_error("Germany") or "")
