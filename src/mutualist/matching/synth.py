"""Seeded synthetic company accounts for two CRMs, with ground truth, for the account mapper.

``generate_companies(n_ours, n_theirs, overlap=0.2, seed=7)`` returns two account tables in
the matcher's input shape (``id, name, domain, country, registration_id``; all strings, only
``id`` and ``name`` always present) and ``truth``: every (our_id, their_id) pair that is the
same company. Everything is drawn with numpy and assembled with pyarrow compute, so 1M x 1M
takes seconds, not minutes. The same seed gives byte-identical tables.

The generator decides whether precision numbers mean anything, so it is meant to be hard in
the ways real CRM exports are hard, not tuned to any matcher. Knobs live in :class:`Knobs`;
the defaults and the distributions behind them:

Companies and records
    ``overlap`` is the share of the *smaller* side's companies that also appear on the other
    side (0.2 at 1M x 1M: 200k shared companies, about 1.75M companies in all). ``dup_rate``
    (3%) of each side's records are a second CRM record of a company already on that side,
    rendered independently; a shared company with two records on one side yields two truth
    pairs. Record order is shuffled and ids (``O00000001``, ``T00000001``) carry no signal.

Names
    Built from word classes: coinages (pronounceable pseudo-words such as "Kolvara", the
    brand names; mostly fresh, 5% drawn from a fixed pool of 50k with Zipf weights), about
    170 real business words ("Delta", "Summit", "Blue"), about 180 surnames and about 100
    industry nouns ("Air", "Faucet", "Foods"). Real words, surnames and industries are drawn
    with Zipf-like weights ``1 / (rank + 2) ** s`` (s 0.6-0.7), so "Delta" and "Smith" are
    everywhere. Patterns (share of companies): coinage alone (26%), coinage + industry (21%),
    word + coinage (15%), word + coinage + industry (10%), coinage + coinage (10%), word +
    word + industry (7%), word + industry (2.5%), surname + industry (3%), surname "and"
    surname (3%). Half of the companies add a generic word (Systems, Group, Solutions,
    International, ...). Per record, the generic word is dropped (25%), swapped for another
    (5%) or added (3%), and abbreviated 30% of the time ("International" -> "Intl"/"Int'l",
    "Technologies" -> "Tech", "Manufacturing" -> "Mfg"); "and" is written "and", "&" or
    "And". 6% of companies are "The ..." and write the prefix on 70% of their records. 85%
    of companies have a legal form from their country's list (Inc/LLC/Corp for the US,
    GmbH/AG/GmbH & Co. KG for Germany, Pty Ltd, Sp. z o.o., S.A. de C.V., ...); it is shown
    on 75% of records in a random spelling ("Inc", "Inc.", "Incorporated") with a comma
    before it 30% of the time. 8% of records have one typo (substitution, deletion,
    insertion or transposition) in the distinctive words, 12% are upper case, 6% lower
    case, 2% carry a doubled space.

Hard negatives (different companies that look alike)
    3% of companies are "twins": they copy every distinctive word of another company
    ("Delta Air" and "Delta Air" with different domains), in the same country half of the
    time; 6% are "siblings" that copy only the first word of another ("Delta Air" vs "Delta
    Faucet"; only multi-word names). Zipf reuse adds natural collisions on top ("Summit Air"
    in several countries), more of them the more companies there are. Twins and their
    domains are the classic label trap: delta.com and delta.de can be different companies.

Countries
    20 countries, weighted toward the US (38%). Per record the field is missing on 10%,
    another country (a branch office) on 2%, and otherwise written as one of its aliases
    (US / USA / United States / U.S., GB / UK / United Kingdom / England, DE / Germany /
    Deutschland, ...), occasionally in upper or lower case.

Domains
    Every company owns a unique primary domain derived from its name (all words, first word,
    hyphenated, initials, or with "hq"/"group"/... when taken); 35% use their country's TLD
    (acme.de, acme.co.uk, acme.com.au), the rest .com/.net/.io/.co. 30% of companies own an
    alternate domain (acme.de next to acme.com, acmegroup.com, acme-inc.com), carried by
    about 8% of all records. Per record the domain is missing on 30%; otherwise it is a
    website in a random format ("acme.com", "www.acme.com", "https://www.acme.com/",
    "WWW.ACME.COM", "http://acme.com/about-us", ...), on 2% a regional subdomain
    ("us.acme.com"), on 7% a contact email ("info@acme.com"). 3% of all records carry a
    free-mail address ("j.smith@gmail.com") and 1% a LinkedIn company page instead of the
    company's domain: values that look like domains but identify nobody.

Registration ids
    Each company has a unique DUNS-like 9-digit number, present on 15% of records, written
    "123456789" or "12-345-6789"; 2% of the shown numbers have one wrong digit.

What it adds up to (100k x 100k, seed 7, normalised with ``match.prepare``)
    About 40% of true pairs share a usable registrable domain or registration id; the rest
    can only be matched by name and country. 2.3% of our records have a *different*
    company with the same normalised name on the other side, 5.6% one with the same core
    name. 11% of companies share all distinctive words with another company (19% among the
    1.75M companies of 1M x 1M). Generating 1M x 1M takes about 15 s on 2 vCPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

__all__ = ["CompanyData", "Knobs", "generate_companies", "write_csv"]

Array = np.ndarray

COLUMNS = ("id", "name", "domain", "country", "registration_id")


@dataclass(frozen=True)
class Knobs:
    """Rates of the generator; see the module docstring for what each one does."""

    dup_rate: float = 0.03
    twin_rate: float = 0.03
    sibling_rate: float = 0.06
    generic_rate: float = 0.5
    generic_drop: float = 0.25
    generic_change: float = 0.05
    generic_add: float = 0.03
    abbreviate: float = 0.3
    the_company: float = 0.06
    the_shown: float = 0.7
    legal_company: float = 0.85
    legal_shown: float = 0.75
    legal_comma: float = 0.3
    typo: float = 0.08
    upper: float = 0.12
    lower: float = 0.06
    stray_space: float = 0.02
    country_missing: float = 0.10
    country_other: float = 0.02
    country_tld: float = 0.35
    alt_domain_company: float = 0.30
    alt_domain_record: float = 0.38
    domain_missing: float = 0.30
    subdomain: float = 0.02
    email: float = 0.07
    freemail: float = 0.03
    linkedin: float = 0.01
    registration: float = 0.15
    registration_dashes: float = 0.3
    registration_typo: float = 0.02


@dataclass(frozen=True)
class CompanyData:
    """Two account tables, the true pairs, and the company behind every record.

    ``ours_entity[i]`` / ``theirs_entity[i]`` is the company index of row ``i``; the matcher
    never sees them, tests and benchmarks use them to check ``truth``.
    """

    ours: pa.Table
    theirs: pa.Table
    truth: pa.Table
    ours_entity: Array = field(repr=False)
    theirs_entity: Array = field(repr=False)


# --- vocabularies -------------------------------------------------------------------------
def _wordlist(text: str) -> list[str]:
    return text.split()


REAL_WORDS = _wordlist(
    """Delta Summit Apex Pinnacle Blue Red Green North South East West Pacific
Atlantic Global United American First National Star Sun River Lake Mountain Eagle Falcon Lion
Tiger Oak Pine Maple Cedar Silver Golden Iron Stone Bright Clear Quantum Vector Nova Orion
Atlas Titan Phoenix Horizon Vista Crest Harbor Bay Bridge Point Peak Prime Core Smart Digital
Cloud Cyber Logic Metro Urban Coastal Valley Ridge Field Park Royal Crown Liberty Patriot
Heritage Legacy Pioneer Frontier Venture Trust Alliance Unity Fusion Synergy Matrix Nexus
Zenith Alpha Beta Gamma Sigma Omega Kappa Acme Ajax Allied Advanced Applied Integrated
Precision Dynamic Strategic Creative Modern Central Western Eastern Northern Southern Midwest
Great Grand Big Little Old New Open Free True Pure Fresh Swift Rapid Express Keystone Anchor
Compass Beacon Lighthouse Granite Marble Copper Cobalt Crimson Indigo Violet Amber Ivory
Sterling Diamond Emerald Sapphire Ruby Arrow Shield Sword Castle Tower Gate Cornerstone
Evergreen Willow Birch Aspen Sierra Canyon Mesa Prairie Meadow Orchard Harvest Spring Summer
Winter Autumn Dawn Sunrise Sunset Twilight Polar Arctic Tropic Island Ocean Wave Tide Coral"""
)

SURNAMES = _wordlist(
    """Smith Johnson Miller Baker Carter Morgan Walker Hall Young King Wright Hill Scott
Adams Nelson Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart
Morris Murphy Cook Rogers Bell Cooper Reed Bailey Kelly Howard Ward Cox Brooks Gray James
Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes Fisher
Butler Foster Sanders Price Schmidt Mueller Schneider Fischer Weber Meyer Wagner Becker
Hoffmann Schulz Koch Richter Klein Wolf Dubois Martin Bernard Moreau Laurent Simon Michel
Lefebvre Leroy Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno
Tanaka Suzuki Sato Watanabe Ito Yamamoto Nakamura Kobayashi Kato Garcia Rodriguez Martinez
Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera Gomez Diaz Silva Santos Oliveira
Souza Costa Pereira Almeida Ferreira Carvalho Jansen Visser Smit Bakker Janssen Peeters
Maes Jacobs Nielsen Hansen Pedersen Andersen Larsen Johansson Andersson Karlsson Nilsson
Eriksson Kowalski Nowak Wisniewski Wojcik Kaminski Patel Sharma Singh Kumar Gupta Shah Mehta
Reddy Iyer Nair Murray Byrne Walsh Ryan Obrien Doyle Kennedy Lynch Quinn Fraser Hunter Grant
Wallace Reid Bishop Crawford Dixon Hart Hayes Knight Lawson Marshall Mason Palmer Porter"""
)

INDUSTRIES = _wordlist(
    """Air Airlines Foods Motors Energy Electric Pharma Steel Chemical Marine Insurance
Bank Realty Construction Builders Plumbing Medical Dental Health Freight Transport Media
Design Studio Analytics Robotics Aerospace Automotive Textiles Apparel Furniture Faucet
Packaging Printing Publishing Farms Dairy Brewing Coffee Hotels Travel Security Telecom
Semiconductor Devices Instruments Controls Materials Metals Mining Oil Gas Water Solar Power
Finance Bancorp Investments Properties Homes Retail Outfitters Supply Distribution Trading
Imports Engineering Architects Legal Accounting Staffing Education Learning Games
Entertainment Pictures Records Sports Fitness Pet Beauty Cosmetics Fashion Tools Machinery
Equipment Paper Glass Plastics Rubber Cable Wireless Mobile Biotech Diagnostics Clinics
Pharmacy Bakery Kitchens Roofing Electrical Landscaping Cleaning Movers"""
)

# Generic words: canonical spelling first, then abbreviations and variants.
GENERIC: tuple[tuple[str, ...], ...] = (
    ("Systems", "Sys", "System"),
    ("Group", "Grp", "Group"),
    ("Solutions", "Solution", "Solns"),
    ("Technologies", "Tech", "Technology", "Techs"),
    ("Holdings", "Holding", "Hldgs"),
    ("Partners", "Partners"),
    ("Labs", "Laboratories", "Lab"),
    ("Consulting", "Consultants", "Consultancy"),
    ("Services", "Svcs", "Service"),
    ("Industries", "Inds", "Industry"),
    ("International", "Intl", "Int'l", "Intl."),
    ("Software", "Software"),
    ("Networks", "Network", "Netwks"),
    ("Enterprises", "Ent", "Enterprise"),
    ("Associates", "Assoc", "Assocs"),
    ("Brothers", "Bros", "Bros."),
    ("Manufacturing", "Mfg", "Mfg."),
    ("Worldwide", "WW", "World Wide"),
    ("Ventures", "Venture"),
    ("Innovations", "Innovation"),
    ("Resources", "Resource"),
    ("Global", "Global"),
)
GENERIC_WEIGHTS = (9, 12, 10, 10, 5, 4, 3, 4, 8, 4, 6, 3, 2, 3, 3, 1, 2, 1, 2, 2, 2, 4)

# ISO code, weight, country TLD | spellings of the country field (ISO code first) | legal
# forms, separated by ";", each with its spellings separated by " / ".
COUNTRY_TABLE = """
US 0.38 us | US; USA; United States; United States of America; U.S. | Inc / Inc. / Incorporated; LLC / L.L.C. / Llc; Corp / Corp. / Corporation; Co / Co. / Company; LP / L.P.
GB 0.09 co.uk | GB; UK; United Kingdom; Great Britain; England | Ltd / Ltd. / Limited; PLC / plc / Plc; LLP
DE 0.08 de | DE; Germany; Deutschland | GmbH; AG; GmbH & Co. KG / GmbH & Co KG; KG; SE
FR 0.05 fr | FR; France | SA / S.A.; SAS / S.A.S.; SARL / S.A.R.L.
CA 0.05 ca | CA; Canada | Inc / Inc.; Ltd / Ltd. / Limited; Corp
AU 0.04 com.au | AU; Australia | Pty Ltd / Pty. Ltd. / Pty Limited
NL 0.03 nl | NL; Netherlands; The Netherlands; Holland | BV / B.V.
JP 0.03 co.jp | JP; Japan | KK / K.K.; Co., Ltd. / Co Ltd / Co. Ltd
IN 0.04 in | IN; India | Pvt Ltd / Pvt. Ltd. / Private Limited; Ltd
BR 0.03 com.br | BR; Brazil; Brasil | Ltda / Ltda.; SA / S.A.
ES 0.025 es | ES; Spain; España | SL / S.L.; SA / S.A.
IT 0.025 it | IT; Italy; Italia | SpA / S.p.A. / SPA; Srl / S.r.l.
SE 0.02 se | SE; Sweden; Sverige | AB
CH 0.02 ch | CH; Switzerland; Schweiz; Suisse | AG; GmbH; SA
SG 0.02 com.sg | SG; Singapore | Pte Ltd / Pte. Ltd. / Private Limited
IE 0.02 ie | IE; Ireland; Éire | Ltd / Limited; DAC
MX 0.02 com.mx | MX; Mexico; México | SA de CV / S.A. de C.V.
BE 0.015 be | BE; Belgium; Belgique | NV / N.V.; BV / B.V.; SRL
DK 0.015 dk | DK; Denmark; Danmark | A/S; ApS
PL 0.02 pl | PL; Poland; Polska | Sp. z o.o. / Sp z oo / sp. z o.o.; SA
"""


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    tld: str
    aliases: tuple[str, ...]
    legal_forms: tuple[tuple[str, ...], ...]


def _countries(table: str) -> tuple[_Country, ...]:
    out = []
    for line in table.strip().splitlines():
        head, aliases, forms = (part.strip() for part in line.split("|"))
        code, weight, tld = head.split()
        out.append(
            _Country(
                code,
                float(weight),
                tld,
                tuple(a.strip() for a in aliases.split(";")),
                tuple(tuple(x.strip() for x in f.split(" / ")) for f in forms.split(";")),
            )
        )
    return tuple(out)


COUNTRIES = _countries(COUNTRY_TABLE)

GENERIC_TLDS = ("com", "net", "io", "co", "org")
GENERIC_TLD_WEIGHTS = (0.84, 0.06, 0.05, 0.03, 0.02)
LABEL_EXTRAS = ("hq", "group", "inc", "global", "online", "corp", "co", "usa", "intl", "world")
FREEMAIL = _wordlist(
    """gmail.com yahoo.com outlook.com hotmail.com aol.com icloud.com gmx.de web.de orange.fr
    yahoo.co.uk live.com protonmail.com"""
)
MAILBOXES = ("info", "sales", "contact", "hello", "office", "accounts", "ap", "admin")
FIRST_NAMES = ("john", "j.smith", "maria", "a.patel", "peter", "li.wei", "anna", "mike")
SUBDOMAINS = ("us", "uk", "de", "shop", "en", "corp", "store", "eu")
# Website formats: {d} is the domain, {D} the upper-cased domain.
WEB_FORMATS = (
    ("{d}", 30),
    ("www.{d}", 20),
    ("https://www.{d}/", 15),
    ("http://{d}", 8),
    ("https://{d}", 7),
    ("WWW.{D}", 5),
    ("http://{d}/about-us", 5),
    ("https://www.{d}/en/contact", 5),
    ("{d}/", 5),
)

# Pseudo-word pieces: onset-vowel syllables and a consonant-led ending, so coinages stay
# pronounceable ("Kolvara", "Tremix", "Davolen").
ONSETS = _wordlist(
    """b c d f g h j k l m n p r s t v w z b d k l m n r s t v br cr dr fr gr pr tr bl cl fl
gl pl sl st sp sk sc ch sh th qu tr kr"""
)
VOWELS = _wordlist("a e i o u a e i o a o y")
ENDINGS = [
    "",
    *_wordlist("""n r s x l m nt rn ll ra ta na ro lo rix tek lon vex sa lia ria dor nix ton
mar vin"""),
]


# --- small helpers -------------------------------------------------------------------------
def _zipf(rng: np.random.Generator, n_vocab: int, size: int, s: float = 1.0) -> Array:
    """Indices 0..n_vocab-1 drawn with weight 1 / (rank + 2) ** s."""
    weights = 1.0 / (np.arange(n_vocab) + 2.0) ** s
    return rng.choice(n_vocab, size=size, p=weights / weights.sum())


def _pick(rng: np.random.Generator, options: Sequence[str], size: int) -> pa.Array:
    """``size`` uniform draws from ``options``."""
    return pa.array(options, pa.string()).take(pa.array(rng.integers(len(options), size=size)))


def _bern(rng: np.random.Generator, p: float, size: int) -> Array:
    return rng.random(size) < p


def _take(values: pa.Array, idx: Array, mask: Array | None = None) -> pa.Array:
    """``values[idx]`` with null where ``mask`` is False (idx may hold garbage there)."""
    safe = np.where(mask, idx, 0) if mask is not None else idx
    out = values.take(pa.array(safe, type=pa.int64()))
    if mask is None:
        return out
    return pc.if_else(pa.array(mask), out, pa.nulls(len(out), out.type))


def _join(*parts: pa.Array, sep: str = " ") -> pa.Array:
    """Join strings element-wise, skipping nulls."""
    return pc.binary_join_element_wise(*parts, sep, null_handling="skip")


def _where(mask: Array, a: pa.Array, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), a, b)


def _ragged(groups: Sequence[Sequence[str]]) -> tuple[pa.Array, Array, Array]:
    """Flatten variant lists into (values, start, count) for :func:`_pick_variant`."""
    counts = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return pa.array([v for g in groups for v in g], pa.string()), starts, counts


def _pick_variant(
    rng: np.random.Generator,
    ragged: tuple[pa.Array, Array, Array],
    group: Array,
    mask: Array | None = None,
    canonical: float = 0.0,
) -> pa.Array:
    """Per row one spelling of ``group``; the first spelling with extra weight ``canonical``."""
    values, starts, counts = ragged
    g = np.where(mask, group, 0) if mask is not None else group
    pick = (rng.random(len(g)) * counts[g]).astype(np.int64)
    pick[rng.random(len(g)) < canonical] = 0
    return _take(values, starts[g] + pick, mask)


def _coinages(rng: np.random.Generator, m: int) -> pa.Array:
    """``m`` capitalised pseudo-words ("Kolvara", "Tremix"); repeats are rare but possible."""

    def piece(options: Sequence[str], p_first: float = 0.0) -> pa.Array:
        idx = rng.integers(len(options), size=m)
        idx[rng.random(m) < p_first] = 0
        return pa.array(options, pa.string()).take(pa.array(idx))

    syllables = [pc.binary_join_element_wise(piece(ONSETS), piece(VOWELS), "") for _ in range(3)]
    syllables[2] = _where(rng.random(m) < 0.7, syllables[2], pa.array([""] * m))
    return pc.utf8_capitalize(pc.binary_join_element_wise(*syllables, piece(ENDINGS, 0.3), ""))


_POPULAR: list[pa.Array] = []


def _popular_coinages() -> pa.Array:
    """A fixed pool of coinages many companies reuse (the same for every seed)."""
    if not _POPULAR:
        words = pc.unique(_coinages(np.random.default_rng(20240917), 3 * N_POPULAR))
        real = pa.array([w for w in REAL_WORDS + SURNAMES + INDUSTRIES], pa.string())
        words = words.filter(pc.invert(pc.is_in(words, real)))
        _POPULAR.append(words.slice(0, N_POPULAR))
    return _POPULAR[0]


# --- companies -----------------------------------------------------------------------------
@dataclass
class _Companies:
    w1: pa.Array
    w2: pa.Array  # null: absent
    w3: pa.Array
    conn: Array  # bool: "w1 and w2"
    generic: Array  # index into GENERIC, -1: none
    the: Array  # bool
    country: Array
    legal: Array  # index into the flattened legal forms, -1: none
    domain: pa.Array
    alt_domain: pa.Array  # null: none
    label: pa.Array  # the primary domain's label, for LinkedIn pages
    duns: Array

    def take(self, order: Array) -> _Companies:
        """Companies permuted so that new index ``i`` is old index ``order[i]``."""
        idx = pa.array(order)
        return _Companies(
            self.w1.take(idx), self.w2.take(idx), self.w3.take(idx), self.conn[order],
            self.generic[order], self.the[order], self.country[order], self.legal[order],
            self.domain.take(idx), self.alt_domain.take(idx), self.label.take(idx),
            self.duns[order],
        )  # fmt: skip


N_POPULAR = 50_000
PSEUDO_POPULAR = 0.05  # share of coinage slots drawn from the popular pool (Zipf)


def _draw_class(rng: np.random.Generator, cls: str, size: int) -> pa.Array:
    """``size`` words of one class: real words, surnames and industries Zipf-distributed;
    coinages mostly fresh, some from a Zipf-distributed popular pool."""
    if cls == "pseudo":
        fresh = _coinages(rng, size)
        pool = _popular_coinages()
        popular = pool.take(pa.array(_zipf(rng, len(pool), size, 0.6)))
        return _where(rng.random(size) < PSEUDO_POPULAR, popular, fresh)
    values, exponent = {
        "real": (REAL_WORDS, 0.7),
        "surname": (SURNAMES, 0.6),
        "industry": (INDUSTRIES, 0.7),
    }[cls]
    return pa.array(values, pa.string()).take(pa.array(_zipf(rng, len(values), size, exponent)))


# (w1 class, w2 class, w3 class, "and" between w1 and w2, weight)
PATTERNS: tuple[tuple[str, str | None, str | None, bool, float], ...] = (
    ("pseudo", None, None, False, 0.26),  # Kolvara
    ("pseudo", "industry", None, False, 0.21),  # Kolvara Foods
    ("real", "pseudo", None, False, 0.15),  # Blue Kolvara
    ("real", "pseudo", "industry", False, 0.10),  # Blue Kolvara Foods
    ("pseudo", "pseudo", None, False, 0.10),  # Kolvara Tremix
    ("real", "real", "industry", False, 0.07),  # Summit Oak Realty
    ("real", "industry", None, False, 0.025),  # Delta Air
    ("surname", "industry", None, False, 0.03),  # Miller Foods
    ("surname", "surname", None, True, 0.03),  # Baker & Hart
)


def _draw_words(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array, pa.Array, Array]:
    weights = np.array([row[4] for row in PATTERNS])
    pat = rng.choice(len(PATTERNS), size=n, p=weights / weights.sum())
    slots: list[pa.Array] = []
    for k in range(3):
        classes = np.array([row[k] or "" for row in PATTERNS])[pat]
        chunks, rows = [pa.nulls(1, pa.string())], [np.flatnonzero(classes == "")]
        for cls in ("pseudo", "real", "surname", "industry"):
            rows.append(np.flatnonzero(classes == cls))
            chunks.append(_draw_class(rng, cls, len(rows[-1])))
        # Position of every row in the concatenated draws (absent rows point at the null).
        where = np.zeros(n, np.int64)
        offset = 1
        for r, chunk in zip(rows[1:], chunks[1:], strict=True):
            where[r] = offset + np.arange(len(r))
            offset += len(chunk)
        slots.append(pa.concat_arrays(chunks).take(pa.array(where)))
    conn = np.array([row[3] for row in PATTERNS])[pat]
    return slots[0], slots[1], slots[2], conn


def _plant_hard_negatives(
    rng: np.random.Generator, knobs: Knobs, c: _Companies
) -> tuple[Array, Array]:
    """Twins copy all distinctive words of another company, siblings only the first word.

    Returns (twin rows, their source rows) so countries can be copied for half the twins.
    """
    n = len(c.conn)
    kind = rng.random(n)
    twins = np.flatnonzero(kind < knobs.twin_rate)
    src = rng.integers(n, size=len(twins))
    order = np.arange(n)
    order[twins] = src
    idx = pa.array(order)
    c.w1, c.w2, c.w3, c.conn = c.w1.take(idx), c.w2.take(idx), c.w3.take(idx), c.conn[order]
    # Siblings keep their own later words, so a one-word company never becomes a sibling.
    multi = pc.is_valid(c.w2).to_numpy(zero_copy_only=False)
    sibling = (kind >= knobs.twin_rate) & (kind < knobs.twin_rate + knobs.sibling_rate / 0.74)
    sib = np.flatnonzero(sibling & multi)
    order = np.arange(n)
    order[sib] = rng.integers(n, size=len(sib))
    c.w1 = c.w1.take(pa.array(order))
    return twins, src


def _labels(rng: np.random.Generator, c: _Companies) -> pa.Array:
    """Domain labels (before dedup): all words, first word, hyphenated, initials or + generic."""
    n = len(c.conn)
    low = [pc.utf8_lower(w) for w in (c.w1, c.w2, c.w3)]  # words are ASCII letters only
    initials = _join(*[pc.utf8_slice_codeunits(x, 0, 1) for x in low], sep="")
    generic = pa.array([g[0].lower() for g in GENERIC], pa.string())
    gen = _take(generic, c.generic, c.generic >= 0)
    multi = pc.is_valid(c.w2).to_numpy(zero_copy_only=False)
    style = rng.choice(5, size=n, p=[0.45, 0.25, 0.12, 0.06, 0.12])
    label = _join(*low, sep="")
    label = _where((style == 1) & multi, low[0], label)
    label = _where((style == 2) & multi, _join(*low, sep="-"), label)
    label = _where((style == 3) & multi, initials, label)
    plus_generic = _join(label, gen, sep="")
    return _where((style == 4) & (c.generic >= 0), plus_generic, label)


def _duplicated(values: pa.Array) -> Array:
    """True for every value that already occurred earlier in ``values``."""
    # dictionary_encode numbers values in order of first appearance, so a row repeats an
    # earlier value exactly when its code is not above every earlier code.
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    seen = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    return codes <= seen


def _scatter(n: int, rows: Array, values: pa.Array) -> pa.Array:
    """A length-``n`` array holding ``values`` at ``rows`` and null elsewhere."""
    where = np.zeros(n, np.int64)
    where[rows] = 1 + np.arange(len(rows))
    return pa.concat_arrays([pa.nulls(1, values.type), values]).take(pa.array(where))


def _unique_domains(rng: np.random.Generator, label: pa.Array, tld: pa.Array) -> pa.Array:
    """Make ``label.tld`` unique: later companies that collide get a suffix, then a number."""
    domain = _join(label, tld, sep=".")
    dup = _duplicated(domain)
    fixed: list[tuple[Array, pa.Array]] = []
    extras = np.array(LABEL_EXTRAS)
    for attempt in range(8):
        rows = np.flatnonzero(dup)
        if len(rows) == 0:
            break
        k = len(rows)
        if attempt < 2:
            sep = np.where(rng.random(k) < 0.3, "-", "")
            tail = np.char.add(sep, extras[rng.integers(len(extras), size=k)])
        elif attempt < 7:
            tail = rng.integers(2, 10 ** (attempt + 1), size=k).astype(str)
        else:  # last resort: unique by construction
            tail = np.char.add("-", rows.astype(str))
        base = label.take(pa.array(rows))
        candidate = _join(_join(base, pa.array(tail), sep=""), tld.take(pa.array(rows)), sep=".")
        taken = pa.concat_arrays([domain.filter(pa.array(~dup)), *[d for _, d in fixed]])
        clash = pc.is_in(candidate, taken).to_numpy(zero_copy_only=False)
        clash |= _duplicated(candidate)
        fixed.append((rows[~clash], candidate.filter(pa.array(~clash))))
        dup[rows[~clash]] = False
    if not fixed:
        return domain
    rows = np.concatenate([r for r, _ in fixed])
    patch = _scatter(len(domain), rows, pa.concat_arrays([d for _, d in fixed]))
    return pc.coalesce(patch, domain)


def _domains(rng: np.random.Generator, knobs: Knobs, c: _Companies) -> None:
    n = len(c.conn)
    country_tld = pa.array([row.tld for row in COUNTRIES], pa.string())
    generic_tld = pa.array(GENERIC_TLDS, pa.string())
    use_country = _bern(rng, knobs.country_tld, n)
    gen_tld = rng.choice(len(GENERIC_TLDS), size=n, p=np.array(GENERIC_TLD_WEIGHTS))
    tld = _where(use_country, country_tld.take(c.country), generic_tld.take(gen_tld))
    primary = _unique_domains(rng, _labels(rng, c), tld)
    label = pc.extract_regex(primary, r"^(?P<label>[^.]+)").field("label")
    # Alternate domain: other TLD, or label + group/inc/global; dropped when it is taken.
    kind = rng.integers(3, size=n)
    com = pa.array(["com"] * n)
    other_tld = _where(use_country, com, country_tld.take(c.country))
    extra = _pick(rng, ["group", "-inc", "global", "hq"], n)
    alt = _where(
        kind == 0,
        _join(label, other_tld, sep="."),
        _join(_join(label, extra, sep=""), _where(kind == 1, com, tld), sep="."),
    )
    clash = pc.is_in(alt, primary).to_numpy(zero_copy_only=False) | _duplicated(alt)
    keep = _bern(rng, knobs.alt_domain_company, n) & ~clash
    c.domain = primary
    c.alt_domain = _where(keep, alt, pa.nulls(n, pa.string()))
    c.label = label


def _companies(rng: np.random.Generator, knobs: Knobs, n: int) -> _Companies:
    w1, w2, w3, conn = _draw_words(rng, n)
    weights = np.array([row.weight for row in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=weights / weights.sum())
    gw = np.array(GENERIC_WEIGHTS, float)
    generic = np.where(
        _bern(rng, knobs.generic_rate, n), rng.choice(len(GENERIC), size=n, p=gw / gw.sum()), -1
    )
    # Legal form: an index into the flattened per-country lists, earlier forms more common.
    per_country = np.array([len(row.legal_forms) for row in COUNTRIES])
    first = np.concatenate([[0], np.cumsum(per_country)[:-1]])
    pick = (rng.random(n) ** 1.5 * per_country[country]).astype(np.int64)
    legal = np.where(_bern(rng, knobs.legal_company, n), first[country] + pick, -1)
    duns = rng.choice(900_000_000, size=n, replace=False) + 100_000_000
    empty = pa.nulls(n, pa.string())
    c = _Companies(
        w1, w2, w3, conn, generic, _bern(rng, knobs.the_company, n), country, legal,
        empty, empty, empty, duns,
    )  # fmt: skip
    twins, src = _plant_hard_negatives(rng, knobs, c)
    same = rng.random(len(twins)) < 0.5
    c.country[twins[same]] = c.country[src[same]]
    _domains(rng, knobs, c)
    return c


# --- records -------------------------------------------------------------------------------
def _typos(rng: np.random.Generator, names: pa.Array, mask: Array) -> pa.Array:
    """One edit (substitute, delete, insert, transpose) at a random inner position."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return names
    sub = names.take(pa.array(rows)).to_numpy(zero_copy_only=False).astype(np.dtypes.StringDType())
    length = np.strings.str_len(sub)
    ok = length >= 4
    pos = 1 + (rng.random(len(sub)) * np.maximum(length - 2, 1)).astype(np.int64)
    kind = rng.integers(4, size=len(sub))
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"), dtype=np.dtypes.StringDType())
    new = letters[rng.integers(26, size=len(sub))]
    head = np.strings.slice(sub, 0, pos)
    cur = np.strings.slice(sub, pos, pos + 1)
    nxt = np.strings.slice(sub, pos + 1, pos + 2)
    tail1 = np.strings.slice(sub, pos + 1, None)
    tail2 = np.strings.slice(sub, pos + 2, None)
    out = np.where(kind == 0, head + new + tail1, sub)
    out = np.where(kind == 1, head + tail1, out)
    out = np.where(kind == 2, head + new + cur + tail1, out)
    out = np.where(kind == 3, head + nxt + cur + tail2, out)
    out = np.where(ok & (cur != " ") & (nxt != " "), out, sub)
    full = names.to_numpy(zero_copy_only=False).astype(object)
    full[rows] = out.astype(object)
    return pa.array(full, pa.string())


def _render_names(rng: np.random.Generator, knobs: Knobs, c: _Companies, ent: Array) -> pa.Array:
    r = len(ent)
    idx = pa.array(ent)
    conn_word = _pick(rng, ["and", "&", "&", "And"], r)
    conn = _where(c.conn[ent], conn_word, pa.nulls(r, pa.string()))
    core = _join(c.w1.take(idx), conn, c.w2.take(idx), c.w3.take(idx))
    core = _typos(rng, core, _bern(rng, knobs.typo, r))
    # Generic word: dropped, changed or added on some records; sometimes abbreviated.
    generic = c.generic[ent].copy()
    u = rng.random(r)
    has = generic >= 0
    generic[has & (u < knobs.generic_drop)] = -1
    changed = has & (u >= knobs.generic_drop) & (u < knobs.generic_drop + knobs.generic_change)
    generic[changed] = (generic[changed] + rng.integers(1, len(GENERIC), changed.sum())) % len(
        GENERIC
    )
    added = ~has & (u < knobs.generic_add)
    generic[added] = rng.integers(len(GENERIC), size=added.sum())
    gen = _pick_variant(
        rng, _ragged(GENERIC), generic, generic >= 0, canonical=1 - knobs.abbreviate
    )
    the = c.the[ent] & _bern(rng, knobs.the_shown, r)
    the_word = _where(the, pa.array(["The"] * r), pa.nulls(r, pa.string()))
    name = _join(the_word, core, gen)
    # Legal form, in a random spelling, with or without a comma.
    forms = _ragged([form for row in COUNTRIES for form in row.legal_forms])
    legal = c.legal[ent]
    shown = (legal >= 0) & _bern(rng, knobs.legal_shown, r)
    suffix = _pick_variant(rng, forms, legal, shown)
    sep = _where(_bern(rng, knobs.legal_comma, r), pa.array([", "] * r), pa.array([" "] * r))
    with_legal = pc.binary_join_element_wise(name, suffix, sep)
    name = pc.coalesce(with_legal, name)
    # Case and whitespace noise.
    u = rng.random(r)
    name = _where(u < knobs.upper, pc.utf8_upper(name), name)
    name = _where((u >= knobs.upper) & (u < knobs.upper + knobs.lower), pc.utf8_lower(name), name)
    spaced = pc.replace_substring(name, " ", "  ", max_replacements=1)
    return _where(_bern(rng, knobs.stray_space, r), spaced, name)


def _render_countries(
    rng: np.random.Generator, knobs: Knobs, c: _Companies, ent: Array
) -> pa.Array:
    r = len(ent)
    country = c.country[ent].copy()
    moved = _bern(rng, knobs.country_other, r)
    country[moved] = rng.integers(len(COUNTRIES), size=moved.sum())
    present = ~_bern(rng, knobs.country_missing, r)
    out = _pick_variant(rng, _ragged([row.aliases for row in COUNTRIES]), country, present, 0.3)
    u = rng.random(r)
    out = _where(u < 0.03, pc.utf8_upper(out), out)
    return _where((u >= 0.03) & (u < 0.05), pc.utf8_lower(out), out)


def _render_domains(rng: np.random.Generator, knobs: Knobs, c: _Companies, ent: Array) -> pa.Array:
    r = len(ent)
    alt = c.alt_domain.take(pa.array(ent))
    use_alt = _bern(rng, knobs.alt_domain_record, r) & pc.is_valid(alt).to_numpy(
        zero_copy_only=False
    )
    dom = _where(use_alt, alt, c.domain.take(pa.array(ent)))
    sub = _pick(rng, SUBDOMAINS, r)
    is_sub = _bern(rng, knobs.subdomain, r)
    dom = _where(is_sub, _join(sub, dom, sep="."), dom)
    # Website formats.
    weights = np.array([w for _, w in WEB_FORMATS], float)
    fmt = rng.choice(len(WEB_FORMATS), size=r, p=weights / weights.sum())
    fmt[is_sub] = rng.choice([0, 3, 4], size=int(is_sub.sum()))  # no "www.us.acme.com"
    upper = pc.utf8_upper(dom)
    out = dom
    for k, (pattern, _) in enumerate(WEB_FORMATS):
        value = upper if "{D}" in pattern else dom
        head, _, tail = pattern.replace("{D}", "{d}").partition("{d}")
        rendered = pc.binary_join_element_wise(head, value, tail, "")
        out = _where(fmt == k, rendered, out)
    # Contact emails instead of websites.
    box = _pick(rng, MAILBOXES, r)
    person = _pick(rng, FIRST_NAMES, r)
    who = _where(rng.random(r) < 0.5, box, person)
    out = _where(_bern(rng, knobs.email, r), _join(who, dom, sep="@"), out)
    out = _where(_bern(rng, knobs.domain_missing, r), pa.nulls(r, pa.string()), out)
    # Values that look like domains but identify nobody, in place of the company's domain
    # (rates are shares of all records, so the missing share stays ``domain_missing``).
    present = pc.is_valid(out).to_numpy(zero_copy_only=False)
    u = np.where(present, rng.random(r) * (1 - knobs.domain_missing), 1.0)
    free = _pick(rng, FREEMAIL, r)
    out = _where(u < knobs.freemail, _join(person, free, sep="@"), out)
    label = c.label.take(pa.array(ent))
    linkedin = _join(pa.array(["https://www.linkedin.com/company"] * r), label, sep="/")
    lk = (u >= knobs.freemail) & (u < knobs.freemail + knobs.linkedin)
    return _where(lk, linkedin, out)


def _render_registration(
    rng: np.random.Generator, knobs: Knobs, c: _Companies, ent: Array
) -> pa.Array:
    rows = np.flatnonzero(_bern(rng, knobs.registration, len(ent)))
    k = len(rows)
    duns = c.duns[ent[rows]]
    wrong = _bern(rng, knobs.registration_typo, k)
    step = 10 ** rng.integers(0, 8, size=k) * rng.integers(1, 9, size=k)
    duns = np.where(wrong, 100_000_000 + (duns - 100_000_000 + step) % 900_000_000, duns)
    text = pa.array(duns.astype(str))
    dashed = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(text, 0, 2),
        pc.utf8_slice_codeunits(text, 2, 5),
        pc.utf8_slice_codeunits(text, 5, 9),
        "-",
    )
    text = _where(_bern(rng, knobs.registration_dashes, k), dashed, text)
    return _scatter(len(ent), rows, text)


def _side_entities(rng: np.random.Generator, companies: Array, n_records: int) -> Array:
    """All companies once, plus duplicates, shuffled; exactly ``n_records`` rows."""
    extra = n_records - len(companies)
    dups = rng.choice(companies, size=extra, replace=extra > len(companies))
    ent = np.concatenate([companies, dups])
    return ent[rng.permutation(len(ent))]


def _ids(prefix: str, n: int) -> pa.Array:
    width = max(8, len(str(n)))
    digits = pc.utf8_lpad(pa.array(np.arange(1, n + 1).astype(str)), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def generate_companies(
    n_ours: int,
    n_theirs: int,
    *,
    overlap: float = 0.2,
    seed: int = 7,
    knobs: Knobs | None = None,
) -> CompanyData:
    """Two CRM account tables with ``overlap`` of the smaller side's companies shared."""
    if n_ours < 1 or n_theirs < 1:
        raise ValueError("both sides need at least one record")
    if not 0.0 <= overlap <= 1.0:
        raise ValueError("overlap is a share between 0 and 1")
    knobs = knobs or Knobs()
    rng = np.random.default_rng(seed)
    c_ours = max(1, n_ours - round(n_ours * knobs.dup_rate))
    c_theirs = max(1, n_theirs - round(n_theirs * knobs.dup_rate))
    shared = round(overlap * min(c_ours, c_theirs))
    n_companies = c_ours + c_theirs - shared
    companies = _companies(rng, knobs, n_companies)
    ours_ent = _side_entities(rng, np.arange(c_ours), n_ours)
    theirs_companies = np.concatenate([np.arange(shared), np.arange(c_ours, n_companies)])
    theirs_ent = _side_entities(rng, theirs_companies, n_theirs)
    # Shuffle company indices so shared companies are not the first ones.
    relabel = rng.permutation(n_companies)
    ours_ent, theirs_ent = relabel[ours_ent], relabel[theirs_ent]
    inverse = np.argsort(relabel)
    companies = companies.take(inverse)

    both = np.concatenate([ours_ent, theirs_ent])
    name = _render_names(rng, knobs, companies, both)
    domain = _render_domains(rng, knobs, companies, both)
    country = _render_countries(rng, knobs, companies, both)
    registration = _render_registration(rng, knobs, companies, both)
    columns = {"name": name, "domain": domain, "country": country, "registration_id": registration}
    ours = _table("O", n_ours, {k: v.slice(0, n_ours) for k, v in columns.items()})
    theirs = _table("T", n_theirs, {k: v.slice(n_ours) for k, v in columns.items()})
    truth = _truth(ours, theirs, ours_ent, theirs_ent)
    return CompanyData(ours, theirs, truth, ours_ent, theirs_ent)


def _table(prefix: str, n: int, columns: dict[str, pa.Array]) -> pa.Table:
    data = {"id": _ids(prefix, n)} | {k: columns[k] for k in COLUMNS[1:]}
    schema = pa.schema(
        [pa.field(k, pa.string(), nullable=k not in ("id", "name")) for k in COLUMNS]
    )
    return pa.Table.from_pydict(data, schema)


def _truth(ours: pa.Table, theirs: pa.Table, ours_ent: Array, theirs_ent: Array) -> pa.Table:
    left = pd.DataFrame({"our_row": np.arange(len(ours_ent)), "entity": ours_ent})
    right = pd.DataFrame({"their_row": np.arange(len(theirs_ent)), "entity": theirs_ent})
    pairs = left.merge(right, on="entity").sort_values(["our_row", "their_row"])
    return pa.table(
        {
            "our_id": ours["id"].take(pa.array(pairs["our_row"].to_numpy())),
            "their_id": theirs["id"].take(pa.array(pairs["their_row"].to_numpy())),
        }
    )


def write_csv(data: CompanyData, folder: Path | str) -> tuple[Path, Path, Path]:
    """Write ``ours.csv``, ``theirs.csv`` and ``truth.csv`` into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / "ours.csv", out / "theirs.csv", out / "truth.csv")
    for table, path in zip((data.ours, data.theirs, data.truth), paths, strict=True):
        pacsv.write_csv(table, path)
    return paths
