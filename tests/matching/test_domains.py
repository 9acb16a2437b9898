import pytest

from mutualist.matching.domains import country_of_domain, domain_label, normalize_domain

CASES = [
    ("https://WWW.Acme.co.uk/about", "acme.co.uk"),
    ("acme.com", "acme.com"),
    ("ACME.COM.", "acme.com"),
    ("http://acme.com:8080/x?y=1", "acme.com"),
    ("info@acme.de", "acme.de"),
    ("us.shop.acme.com", "acme.com"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
    ("acme.myshopify.com", "acme.myshopify.com"),  # PSL private suffix: the shop's own domain
    ("acme.de; acme.com", "acme.de"),
    ("myshopify.com", None),
    ("j.smith@gmail.com", None),
    ("outlook.com", None),
    ("https://www.linkedin.com/company/acme", None),
    ("facebook.com/acme", None),
    ("sites.google.com/view/acme", None),
    ("192.168.0.1", None),
    ("http://[2001:db8::1]/", None),
    ("localhost", None),
    ("acme.local", None),
    ("n/a", None),
    ("", None),
    ("not a website", None),
    ("-acme.com", None),
    ("co.uk", None),
    (None, None),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_it_normalises_domains(raw: str | None, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


def test_it_takes_the_label() -> None:
    assert domain_label("acme.co.uk") == "acme"
    assert domain_label("shop.myshopify.com") == "shop"


def test_prepare_reduces_domains_like_normalize_domain() -> None:
    import pyarrow as pa

    from mutualist.matching.match import prepare

    raw = [value for value, _ in CASES] + ["www.acme.com", "acme.github.io", "x.kawasaki.jp"]
    # Hosts under two-label suffixes, which the SQL reduces itself unless a rule is in the way.
    raw += [
        "www.acme.co.uk", "shop.acme.co.uk", "acme.com.au", "x.blogspot.com", "www.co.uk",
        "www.com", "yahoo.co.uk", "www.yahoo.co.uk", "a.b.kawasaki.jp", "city.kawasaki.jp",
        "acme.www.ck", "acme.com.zz", "acme.uk.com", "xn--mnchen-3ya.co.uk", "acme-.co.uk",
        "www.acme-.co.uk", "www.www.acme.com",
    ]  # fmt: skip
    # The SQL fast path (a bare lower-case host, "label.suffix" or "www.label.suffix") against
    # what must leave it for Python: upper case, ports, paths, e-mails, subdomains, IDNs,
    # free mail, ccSLDs, trailing dots and lists.
    raw += [
        "ACME.CO.UK", "Acme.Com", "acme.com:443", "https://acme.com:8443/x", "acme.com/",
        "acme.com?x=1", "acme.com#top", "sales@ACME.co.uk", "j.doe@mail.acme.de", "acme.com.",
        ".acme.com", "eu.shop.acme.co.uk", "www.acme.co.jp", "acme.co.jp", "acme.com.br",
        "münchen.co.uk", "www.münchen.de", "\uff4d\u00fcnchen.de", "xn--80ak6aa92e.com",
        "bücher.example",
        "someone@gmail.com", "GMAIL.COM", "www.hotmail.co.uk", "mail.yahoo.co.jp",
        "acme.de, acme.com", "acme.de;acme.com", "user:pass@acme.io", "http://user@acme.io/",
        "acme", "acme.c", "a.com", "acme..com", "-.com", "acme-.com", "1234.com", "acme.123",
    ]  # fmt: skip
    n = len(raw)
    table = pa.table(
        {
            "id": [str(i) for i in range(n)],
            "name": ["Acme"] * n,
            "domain": raw,
            "country": [None] * n,
            "registration_id": [None] * n,
        },
        schema=pa.schema(
            [(c, pa.string()) for c in ("id", "name", "domain", "country", "registration_id")]
        ),
    )
    prepared = prepare(table)
    assert prepared["domain_norm"].to_pylist() == [normalize_domain(v) for v in raw]
    assert prepared["domain_label"].to_pylist()[:2] == ["acme", "acme"]


@pytest.mark.parametrize(
    ("domain", "country"),
    [
        ("acme.co.uk", "GB"),
        ("acme.de", "DE"),
        ("acme.com.au", "AU"),
        ("acme.com", None),
        ("acme.io", None),  # sold worldwide: no country
        ("acme.co", None),
        ("acme.eu", None),  # not a country
        (None, None),
    ],
)
def test_country_of_domain(domain: str | None, country: str | None) -> None:
    assert country_of_domain(domain) == country
