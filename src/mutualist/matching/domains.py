"""Website / e-mail values to one registrable domain ("https://WWW.Acme.co.uk/about" -> "acme.co.uk").

The Public Suffix List comes from the `publicsuffixlist` package (never fetched); its private
section is used, so "acme.myshopify.com" stays the shop's own domain while "myshopify.com" alone is
a suffix, not a company. Domains that many unrelated companies put in a website field (free mail,
social networks, link shorteners, placeholders) normalise to None: they are not evidence.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from publicsuffixlist import PublicSuffixList

from mutualist.lib.countries import COUNTRY_CODES

# Registrable domains that say nothing about which company a record is.
SHARED_DOMAINS = frozenset(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.co.jp ymail.com
    rocketmail.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de hotmail.it hotmail.es
    outlook.com outlook.de outlook.fr live.com live.co.uk live.fr msn.com passport.com aol.com
    aim.com icloud.com me.com mac.com protonmail.com protonmail.ch proton.me pm.me tutanota.com
    tuta.io gmx.com gmx.de gmx.net gmx.at gmx.ch web.de t-online.de freenet.de arcor.de
    mail.com email.com inbox.com zohomail.com yandex.ru yandex.com ya.ru mail.ru bk.ru list.ru
    inbox.ru rambler.ru qq.com 163.com 126.com yeah.net sina.com sina.cn sohu.com aliyun.com
    naver.com daum.net hanmail.net rediffmail.com orange.fr wanadoo.fr free.fr laposte.net
    sfr.fr libero.it virgilio.it tiscali.it alice.it seznam.cz wp.pl onet.pl o2.pl interia.pl
    btinternet.com sky.com virginmedia.com comcast.net verizon.net att.net sbcglobal.net
    bellsouth.net cox.net charter.net earthlink.net shaw.ca rogers.com sympatico.ca telus.net
    bigpond.com optusnet.com.au xtra.co.nz hey.com fastmail.com hushmail.com mailinator.com
    linkedin.com facebook.com fb.com fb.me instagram.com twitter.com x.com t.co youtube.com
    youtu.be tiktok.com pinterest.com reddit.com tumblr.com medium.com substack.com
    crunchbase.com bloomberg.com zoominfo.com glassdoor.com indeed.com yelp.com wikipedia.org
    wikimedia.org bit.ly tinyurl.com goo.gl ow.ly buff.ly lnkd.in linktr.ee
    wix.com wixsite.com squarespace.com weebly.com wordpress.com wordpress.org blogger.com
    blogspot.com godaddysites.com business.site sites.google.com
    example.com example.org example.net test.com invalid.com none.com noemail.com nomail.com
    nowebsite.com na.com n-a.com unknown.com domain.com website.com company.com
    """.split()  # noqa: SIM905 (a word list reads better than 150 quoted strings)
)
# Hosts on otherwise real company domains that only host other people's pages.
SHARED_HOSTS = frozenset(
    {
        "sites.google.com", "docs.google.com", "drive.google.com", "play.google.com",
        "maps.google.com", "apps.apple.com", "itunes.apple.com", "github.com", "gitlab.com",
    }
)  # fmt: skip

# How a raw website / e-mail value becomes a host. Shared by `normalize_domain` (Python `re`) and
# `host_sql` (DuckDB RE2): only constructs both engines read the same way.
_SEP = r"[ \t\r\n\f\v,;|]"
HOST_STEPS = (
    (rf"^{_SEP}+", ""),  # leading separators
    (rf"(?s){_SEP}.*$", ""),  # "acme.de; acme.com": the first value only
    (r"^[a-z][a-z0-9+.-]*://", ""),  # scheme
    (r"(?s)[/?#\\].*$", ""),  # path, query, fragment
    (r"(?s)^.*@", ""),  # e-mail user or URL credentials
    (r"(?s):.*$", ""),  # port
    (r"^\.+|\.+$", ""),  # leading and trailing dots
)
_HOST_STEPS = tuple((re.compile(p), r) for p, r in HOST_STEPS)
_VALID_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
# Hosts the SQL path can reduce without Python, ASCII only: "label.tld" or "www.label.tld",
# and "label.sld.tld" or "www.label.sld.tld" ("acme.co.uk").
SIMPLE_HOST_SQL = r"^(www\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.([a-z]{2,63}))$"
SIMPLE_HOST2_SQL = (
    r"^(www\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    r"\.[a-z]{2,63}$"
)


@cache
def _psl() -> PublicSuffixList:
    # accept_unknown=False: "acme.local" or "acme.intranet" are not registrable domains.
    return PublicSuffixList(accept_unknown=False)


@cache
def suffix_rules() -> tuple[frozenset[str], frozenset[str]]:
    """(plain rules, parents of wildcard rules) of the bundled PSL, IDN rules as punycode."""
    text = resources.files("publicsuffixlist").joinpath("public_suffix_list.dat").read_text("utf-8")
    plain: set[str] = set()
    wild: set[str] = set()
    for line in text.splitlines():
        rule = line.strip().split(" ", 1)[0]
        if not rule or rule.startswith(("//", "!")):
            continue
        target = wild if rule.startswith("*.") else plain
        try:
            target.add(rule.removeprefix("*.").encode("idna").decode("ascii"))
        except UnicodeError:
            continue
    return frozenset(plain), frozenset(wild)


def host_of(value: str) -> str:
    text = value.lower()
    for pattern, replacement in _HOST_STEPS:
        text = pattern.sub(replacement, text)
    return text


# A value that is a bare lower-case host already ("acme.co.uk"): every HOST_STEPS step leaves
# it unchanged. About half the values in CRM-like data; one full match instead of seven
# replacements for them.
_BARE_HOST = r"[a-z0-9-]+(\.[a-z0-9-]+)+"


def host_sql(column: str) -> str:
    """DuckDB expression doing `host_of` on a VARCHAR column."""
    expr = f"lower({column})"
    for pattern, replacement in HOST_STEPS:
        expr = f"regexp_replace({expr}, '{pattern}', '{replacement}')"
    return f"CASE WHEN regexp_full_match({column}, '{_BARE_HOST}') THEN {column} ELSE {expr} END"


def registrable(host: str) -> str | None:
    """Registrable domain of a host from `host_of`, or None if it is not a company's domain."""
    if not host or host.replace(".", "").isdigit():
        return None  # IPv4 (IPv6 lost its colons with the port step and is a single label)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    if host in SHARED_HOSTS or not _VALID_HOST.fullmatch(host):
        return None
    found = _psl().privatesuffix(host)
    if found is None or found in SHARED_DOMAINS:
        return None
    return str(found)


def normalize_domain(value: str | None) -> str | None:
    """Registrable domain (eTLD+1, punycode) of a website, URL or e-mail; None if unusable."""
    if value is None:
        return None
    return registrable(host_of(value))


# Country-code TLDs sold to anyone as vanity or generic domains: they say nothing of a country.
_VANITY = (
    "ac ad ai am as bz cc cd co fm gg gl gs io im je la ly me ms mu nu sh so st tk to tv vc ws"
)
VANITY_CCTLDS = frozenset(_VANITY.split())


def country_of_domain(registrable: str | None) -> str | None:
    """ISO country a registrable domain's country-code TLD names ("acme.co.uk" -> "GB"), if any.

    Only a hint: a company may own domains in several countries, so callers use it where the
    country field is empty and never let it outweigh a stated country.
    """
    if not registrable or "." not in registrable:
        return None
    tld = registrable.rsplit(".", 1)[1].lower()
    if len(tld) != 2 or tld in VANITY_CCTLDS:
        return None
    code = "GB" if tld == "uk" else tld.upper()
    return code if code in COUNTRY_CODES else None


def domain_label(registrable: str) -> str:
    """The label a company chose: "acme.co.uk" -> "acme", "shop.myshopify.com" -> "shop"."""
    return registrable.split(".", 1)[0]
