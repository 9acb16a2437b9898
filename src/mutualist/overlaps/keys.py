"""The exact keys a company is looked up by: its registrable domain, and its normalised name
with common abbreviations spelt out (so "Acme Intl" and "Acme International, Inc." agree)."""

from __future__ import annotations

from mutualist.matching.domains import normalize_domain
from mutualist.matching.names import normalize_name

ABBREVIATIONS = {
    "intl": "international",
    "int'l": "international",
    "natl": "national",
    "mfg": "manufacturing",
    "mgmt": "management",
    "svcs": "services",
    "svc": "service",
    "sys": "systems",
    "tech": "technology",
    "techs": "technologies",
    "assoc": "associates",
    "bros": "brothers",
    "dept": "department",
    "ctr": "center",
    "centre": "center",
    "univ": "university",
    "grp": "group",
    "hldgs": "holdings",
    "labs": "laboratories",
    "lab": "laboratory",
    "n": "and",
}


def name_key(name: str) -> str:
    words = normalize_name(name).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)[:255]


def domain_key(domain: str | None) -> str:
    return normalize_domain(domain) or ""
