"""Company names, domains and countries built from combinable word lists.

Names are drawn as *indices into a product space* of word lists, so uniqueness is a
property of the draw (sampling without replacement) rather than something checked row by
row. Strings are numpy ``object`` arrays: gathering from small lookup tables and adding two
object arrays is a tight C loop over ``str.__add__``, measured faster than ``np.strings.add``
on wide fixed-width arrays, and it costs one pointer per row for repeated values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import INDUSTRIES
from .timeline import Array
from .timeline import str_array as _u

# (ISO alpha-2, region, domain TLD, partner weight, account weight, legal suffixes)
COUNTRIES: tuple[tuple[str, str, str, float, float, tuple[str, ...]], ...] = (
    ("US", "NA", ".com", 30, 38, ("Inc.", "LLC", "Corp.")),
    ("CA", "NA", ".ca", 5, 5, ("Inc.", "Ltd.")),
    ("GB", "EMEA", ".co.uk", 9, 8, ("Ltd", "plc")),
    ("DE", "EMEA", ".de", 8, 7, ("GmbH", "AG")),
    ("FR", "EMEA", ".fr", 5, 5, ("SAS", "S.A.")),
    ("NL", "EMEA", ".nl", 4, 3, ("B.V.",)),
    ("ES", "EMEA", ".es", 3, 3, ("S.L.", "S.A.")),
    ("IT", "EMEA", ".it", 3, 3, ("S.r.l.", "S.p.A.")),
    ("SE", "EMEA", ".se", 2, 2, ("AB",)),
    ("CH", "EMEA", ".ch", 2, 2, ("AG", "GmbH")),
    ("PL", "EMEA", ".pl", 2, 1, ("Sp. z o.o.",)),
    ("IE", "EMEA", ".ie", 2, 1, ("Ltd",)),
    ("AE", "EMEA", ".ae", 1, 1, ("FZ-LLC",)),
    ("ZA", "EMEA", ".co.za", 1, 1, ("(Pty) Ltd",)),
    ("AU", "APAC", ".com.au", 4, 4, ("Pty Ltd",)),
    ("NZ", "APAC", ".co.nz", 1, 1, ("Limited",)),
    ("JP", "APAC", ".co.jp", 3, 3, ("K.K.",)),
    ("SG", "APAC", ".sg", 3, 2, ("Pte. Ltd.",)),
    ("IN", "APAC", ".in", 4, 3, ("Pvt. Ltd.",)),
    ("KR", "APAC", ".kr", 1, 1, ("Co., Ltd.",)),
    ("BR", "LATAM", ".com.br", 3, 3, ("Ltda.",)),
    ("MX", "LATAM", ".mx", 2, 2, ("S.A. de C.V.",)),
    ("AR", "LATAM", ".com.ar", 1, 1, ("S.A.",)),
    ("CO", "LATAM", ".co", 1, 1, ("S.A.S.",)),
    ("CL", "LATAM", ".cl", 1, 1, ("SpA",)),
)
COUNTRY_CODES: tuple[str, ...] = tuple(c[0] for c in COUNTRIES)
COUNTRY_REGION: dict[str, str] = {c[0]: c[1] for c in COUNTRIES}

# Partner names: CamelCase two-part stem + a services word, e.g. "BrightPath Consulting".
_PARTNER_HEADS = (
    "Bright", "Blue", "Clear", "Cloud", "Core", "Crest", "Data", "Deep", "Edge", "First",
    "Forge", "Green", "High", "Iron", "Key", "Lime", "Logic", "Next", "North", "Nova",
    "Open", "Peak", "Pixel", "Prime", "Quant", "Red", "Sage", "Signal", "Silver", "Smart",
    "Solid", "Spark", "Stack", "Star", "Summit", "Swift", "True", "Vector", "West", "Zen",
)  # fmt: skip
_PARTNER_TAILS = (
    "Arc", "Base", "Bay", "Bridge", "Cast", "Field", "Flow", "Gate", "Grid", "Harbor",
    "Hive", "Lane", "Layer", "Leaf", "Line", "Link", "Loop", "Mark", "Mesh", "Mind",
    "Node", "Path", "Point", "Port", "Reach", "Rock", "Scale", "Shift", "Sky", "Source",
    "Sphere", "Stone", "Stream", "Tide", "Tower", "Trail", "View", "Wave", "Wing", "Works",
)  # fmt: skip
_PARTNER_WORDS = (
    "Consulting", "Solutions", "Systems", "Partners", "Digital", "Technologies", "Group",
    "Labs", "Advisory", "Cloud", "Networks", "IT", "Integration", "Data", "Services",
    "Analytics", "Security", "Software", "Managed Services", "Tech",
)  # fmt: skip

# Customer names: one invented word + an industry noun, e.g. "Norwind Logistics". The noun
# decides the account's industry, so industry shares follow the noun counts below.
_ACCOUNT_HEADS = (
    "Al", "Alta", "Amber", "Arbor", "Astra", "Aur", "Bel", "Bright", "Cal", "Cedar",
    "Cor", "Del", "East", "Elm", "Fair", "Fal", "Glen", "Gran", "Hal", "Har",
    "Hol", "Iron", "Kin", "Lake", "Lin", "Mar", "Mer", "Mid", "Mill", "Nor",
    "Oak", "Or", "Pine", "Quin", "Red", "Ros", "Sal", "Silver", "Sol", "Stan",
    "Sun", "Tal", "Ter", "Thorn", "Val", "Ver", "West", "Wil", "Win", "Zeph",
)  # fmt: skip
_ACCOUNT_TAILS = (
    "bay", "bourne", "brook", "by", "crest", "dale", "den", "field", "ford", "gate",
    "haven", "hurst", "land", "ley", "mark", "mere", "mont", "more", "point", "port",
    "ridge", "rock", "shaw", "shire", "side", "stead", "ston", "vale", "view", "wick",
    "wind", "wood", "worth", "ville", "ton", "tree", "water", "well", "wyn", "holm",
    "burn", "combe", "cott", "fell", "gard", "hall", "lock", "moor", "stow", "wold",
)  # fmt: skip
_ACCOUNT_NOUNS: dict[str, tuple[str, ...]] = {
    "financial_services": (
        "Bank", "Capital", "Credit Union", "Insurance", "Securities", "Trust", "Finance",
        "Payments", "Asset Management", "Mutual", "Lending", "Wealth",
    ),
    "healthcare": (
        "Health", "Medical", "Clinics", "Pharma", "Biotech", "Care", "Diagnostics",
        "Hospital Group", "Life Sciences", "Dental",
    ),
    "manufacturing": (
        "Manufacturing", "Industries", "Steel", "Motors", "Chemicals", "Machinery",
        "Plastics", "Components", "Aerospace", "Packaging", "Textiles", "Tools",
    ),
    "retail": (
        "Retail", "Stores", "Foods", "Apparel", "Outfitters", "Market", "Grocers",
        "Home Goods", "Beverages", "Brands",
    ),
    "public_sector": (
        "County", "City Council", "Transit Authority", "Water District", "University",
        "School District", "Port Authority",
    ),
    "technology": (
        "Software", "Networks", "Robotics", "Semiconductors", "Devices", "Telecom",
        "Data", "Cloud", "Labs", "Systems",
    ),
    "energy": ("Energy", "Power", "Utilities", "Solar", "Oil & Gas", "Renewables", "Grid"),
    "media": ("Media", "Studios", "Publishing", "Broadcasting", "Games", "Entertainment"),
}  # fmt: skip
_NOUN_LIST: tuple[str, ...] = tuple(n for nouns in _ACCOUNT_NOUNS.values() for n in nouns)
_NOUN_INDUSTRY: tuple[int, ...] = tuple(
    INDUSTRIES.index(ind) for ind, nouns in _ACCOUNT_NOUNS.items() for _ in nouns
)

_PRODUCTS = (
    "Platform Subscription", "Analytics Add-on", "Security Suite", "Data Cloud",
    "Premium Support", "AI Assistant", "Integration Hub", "Enterprise Licence",
)  # fmt: skip


def _slug(words: tuple[str, ...]) -> Array:
    """Lower-case, hyphenated domain label for each word: "Oil & Gas" -> "oil-gas"."""
    out = []
    for w in words:
        cleaned = "".join(ch if ch.isalnum() else " " for ch in w.lower())
        out.append("-".join(cleaned.split()))
    return _u(out)


def _unique_indices(rng: np.random.Generator, n: int, space: int) -> tuple[Array, Array]:
    """``n`` distinct cells of a ``space``-sized product; past ``space`` cells repeat with a
    round counter (1, 2, ...) so callers can append a disambiguating suffix."""
    rounds = -(-n // space)
    idx = np.concatenate([rng.permutation(space) for _ in range(rounds)])[:n]
    return idx, np.arange(n) // space


def _with_round(values: Array, rounds: Array, sep: str) -> Array:
    """Append " 2", " 3", ... (or "-2", ...) to values drawn on a repeat pass of the space."""
    if not rounds.any():
        return values
    out = values.copy()
    again = np.flatnonzero(rounds)
    out[again] = values[again] + _u([f"{sep}{r + 1}" for r in rounds[again].tolist()])
    return out


def _stems(heads: tuple[str, ...], tails: tuple[str, ...], sep: str, *, lower: bool) -> Array:
    """Every head+tail stem (+ separator), a small table indexed per row instead of
    concatenating per row: fewer passes over large string arrays."""
    out = [(h + t).lower() if lower else h + t for h in heads for t in tails]
    return _u([x + sep for x in out])


@dataclass(frozen=True)
class Names:
    """Unique display names plus the domain label (without TLD) for each."""

    name: Array
    domain_label: Array
    industry: Array  # industry code per name (accounts only; -1 for partners)


def partner_names(rng: np.random.Generator, n: int) -> Names:
    """Unique partner names like "BrightPath Consulting" and labels "brightpath-consulting"."""
    n_words = len(_PARTNER_WORDS)
    idx, rounds = _unique_indices(rng, n, len(_PARTNER_HEADS) * len(_PARTNER_TAILS) * n_words)
    stem, w = np.divmod(idx, n_words)
    name_stems = _stems(_PARTNER_HEADS, _PARTNER_TAILS, " ", lower=False)
    label_stems = _stems(_PARTNER_HEADS, _PARTNER_TAILS, "-", lower=True)
    name = name_stems[stem] + _u(_PARTNER_WORDS)[w]
    label = label_stems[stem] + _slug(_PARTNER_WORDS)[w]
    return Names(
        name=_with_round(name, rounds, " "),
        domain_label=_with_round(label, rounds, "-"),
        industry=np.full(n, -1),
    )


def account_names(rng: np.random.Generator, n: int) -> Names:
    """Unique customer names like "Norwind Logistics"; the noun fixes the industry."""
    space = len(_ACCOUNT_HEADS) * len(_ACCOUNT_TAILS) * len(_NOUN_LIST)
    idx, rounds = _unique_indices(rng, n, space)
    return _account_cells(idx, rounds)


def random_company_names(rng: np.random.Generator, n: int) -> Array:
    """Company names drawn with replacement (lead companies; duplicates are realistic)."""
    space = len(_ACCOUNT_HEADS) * len(_ACCOUNT_TAILS) * len(_NOUN_LIST)
    return _account_cells(rng.integers(0, space, n), np.zeros(n, dtype=np.int64)).name


def _account_cells(idx: Array, rounds: Array) -> Names:
    stem, k = np.divmod(idx, len(_NOUN_LIST))
    name_stems = _stems(_ACCOUNT_HEADS, _ACCOUNT_TAILS, " ", lower=False)
    label_stems = _stems(_ACCOUNT_HEADS, _ACCOUNT_TAILS, "-", lower=True)
    name = name_stems[stem] + _u(_NOUN_LIST)[k]
    label = label_stems[stem] + _slug(_NOUN_LIST)[k]
    return Names(
        name=_with_round(name, rounds, " "),
        domain_label=_with_round(label, rounds, "-"),
        industry=np.asarray(_NOUN_INDUSTRY)[k],
    )


def draw_countries(rng: np.random.Generator, n: int, *, partner: bool) -> Array:
    """Country indices into ``COUNTRIES`` with partner or account weights."""
    w = np.array([c[3] if partner else c[4] for c in COUNTRIES], dtype=float)
    return rng.choice(len(COUNTRIES), size=n, p=w / w.sum())


def domains(labels: Array, country_idx: Array) -> Array:
    """Domain = label + the country's TLD ("brightpath-consulting.de")."""
    tlds = _u([c[2] for c in COUNTRIES])
    return labels + tlds[country_idx]


def legal_names(rng: np.random.Generator, names: Array, country_idx: Array) -> Array:
    """Name + a legal-form suffix plausible for the country ("... GmbH", "... B.V.")."""
    out = np.empty(len(names), dtype=object)
    for i, (name, c) in enumerate(zip(names.tolist(), country_idx.tolist(), strict=True)):
        suffixes = COUNTRIES[c][5]
        out[i] = f"{name} {suffixes[int(rng.integers(len(suffixes)))]}"
    return out


def opportunity_names(rng: np.random.Generator, account_name: Array, created_year: Array) -> Array:
    """ "<Account> - <Product> <year>", the usual shape of a CRM opportunity name."""
    if len(account_name) == 0:
        return _u([])
    # A small lookup table again: "<Product> <year>" has only products x years values.
    first, last = int(created_year.min()), int(created_year.max())
    years = range(first, last + 1)
    tails = _u([f" - {p} {y}" for p in _PRODUCTS for y in years])
    pick = rng.integers(0, len(_PRODUCTS), len(account_name))
    return account_name + tails[pick * len(years) + (created_year - first)]
