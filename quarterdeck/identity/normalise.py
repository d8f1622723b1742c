"""Normalising what identifies a company: names, web domains, countries and free-text labels.

Two systems rarely type a company the same way: "ACME ANALYTICS, Inc.", "acme analytics inc",
"Acme  Analytics" and "acmeanalytics.com" are one company. Matching compares these
normalised forms, never the raw values:

- a name is lower-cased, accents and punctuation dropped, "&" and "+" read as "and",
  whitespace runs collapsed, a leading "the" and trailing legal forms (Inc., LLC, Ltd, GmbH,
  S.A., B.V., Pty Ltd, plc …: the term list of the `cleanco` package, in every country it
  covers) removed, and common abbreviations written out ("Intl" → "international", "Tech" →
  "technology", "Svcs" → "services"); a name that is itself a domain ("acme.io") becomes the
  domain's label ("acme");
- a domain loses its scheme, `www.`, port, path, query and case; a free-mail domain
  (gmail.com …) identifies nobody and counts as no domain;
- a country becomes its ISO 3166 alpha-2 code when it can be recognised.

Example: normalise_name("ACME ANALYTICS, Inc.") == "acme analytics".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Trailing words cleanco lists as legal forms that are more often part of a name here.
_NOT_LEGAL_FORMS = frozenset({("uk",), ("ok",), ("at",), ("et",)})
# Abbreviations a company's name is written with in one system and not in another, and the
# word each stands for (plural and singular read as one: "Services" and "Svc" match).
ABBREVIATIONS = {
    "intl": "international", "tech": "technology", "techs": "technology",
    "technologies": "technology", "svc": "services", "svcs": "services", "srvcs": "services",
    "service": "services", "mgmt": "management", "mgt": "management", "mfg": "manufacturing",
    "assoc": "associates", "assocs": "associates", "associate": "associates",
    "natl": "national", "sys": "systems", "system": "systems", "sol": "solutions",
    "solns": "solutions", "solution": "solutions", "grp": "group", "hldgs": "holdings",
    "hldg": "holdings", "holding": "holdings", "dev": "development", "eng": "engineering",
    "engg": "engineering", "lab": "labs", "laboratories": "labs", "laboratory": "labs",
    "ctr": "center", "centre": "center", "bros": "brothers", "dept": "department",
    "univ": "university", "assn": "association", "enterprise": "enterprises",
    "industry": "industries", "finl": "financial", "mktg": "marketing",
    "comms": "communications", "communication": "communications", "sci": "sciences",
    "science": "sciences", "pharma": "pharmaceuticals", "hlth": "health",
    "healthcare": "health care", "investment": "investments", "prods": "products",
    "product": "products", "dist": "distribution", "distrib": "distribution",
    "logistic": "logistics", "consult": "consulting", "network": "networks",
    "ntwk": "networks", "ntwks": "networks",
}


FREE_MAIL_DOMAINS = frozenset("""
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de ymail.com rocketmail.com
    hotmail.com hotmail.co.uk hotmail.fr hotmail.de outlook.com outlook.fr outlook.de live.com
    live.co.uk msn.com aol.com icloud.com me.com mac.com proton.me protonmail.com pm.me
    gmx.com gmx.de gmx.net web.de mail.com email.com yandex.com yandex.ru mail.ru qq.com
    163.com 126.com sina.com naver.com daum.net fastmail.com hey.com tutanota.com zohomail.com
    free.fr orange.fr laposte.net wanadoo.fr btinternet.com sky.com virginmedia.com
    comcast.net verizon.net att.net sbcglobal.net bigpond.com optusnet.com.au shaw.ca
    rogers.com libero.it rediffmail.com seznam.cz wp.pl o2.pl t-online.de
""".split())
# Public suffixes of two labels (the registrable domain is one label more).
TWO_LABEL_SUFFIXES = frozenset("""
    co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk com.au net.au org.au edu.au gov.au
    co.nz org.nz net.nz co.jp ne.jp or.jp co.kr or.kr co.in net.in org.in firm.in co.za
    org.za com.br net.br org.br com.mx org.mx com.ar com.sg edu.sg com.hk com.cn net.cn
    org.cn com.tw co.il org.il com.my co.id com.ph com.vn com.tr co.th com.pk com.ng com.eg
    com.sa com.co com.pe com.ua co.ke com.pl com.es com.pt co.at or.at
""".split())

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DROPPED = re.compile(r"[.'’`´]")
_COUNTRY_ALIASES = {
    "uk": "GB", "u k": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "great britain": "GB", "britain": "GB", "northern ireland": "GB",
    "usa": "US", "u s": "US", "u s a": "US", "america": "US", "united states of america": "US",
    "holland": "NL", "the netherlands": "NL", "deutschland": "DE", "espana": "ES",
    "south korea": "KR", "korea": "KR", "russia": "RU", "uae": "AE", "czechia": "CZ",
    "viet nam": "VN", "vietnam": "VN", "iran": "IR", "taiwan": "TW",
}


def _ascii(text: str) -> str:
    """`text` lower-cased with accents removed ("Société" → "societe")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def legal_forms() -> dict[str, tuple[tuple[str, ...], ...]]:
    """cleanco's legal forms of every country, as words in the form names are compared in
    ("S.A. de C.V." → ("sa", "de", "cv")), by their last word, the longest first."""
    from cleanco.clean import get_unique_terms

    forms = {tuple(_words(term)) for term in get_unique_terms()} - _NOT_LEGAL_FORMS
    by_last: dict[str, list[tuple[str, ...]]] = {}
    for form in sorted((f for f in forms if f), key=lambda f: (-len(f), f)):
        by_last.setdefault(form[-1], []).append(form)
    return {last: tuple(group) for last, group in by_last.items()}


def _words(text: str) -> list[str]:
    """`text` as lower-case ASCII words, "&" and "+" read as "and", dots and apostrophes
    dropped ("S.A." → "sa") and other punctuation a space."""
    text = _ascii(text).replace("&", " and ").replace("+", " and ")
    return _NOT_WORD.sub(" ", _DROPPED.sub("", text)).split()


def _strip_legal_forms(words: list[str]) -> list[str]:
    """`words` without trailing legal forms, repeatedly ("GmbH & Co. KG", "Pte. Ltd."); the
    name keeps at least one word."""
    forms = legal_forms()
    changed = True
    while changed and len(words) > 1:
        changed = False
        for form in forms.get(words[-1], ()):
            n = len(form)
            if len(words) > n and tuple(words[-n:]) == form:
                words, changed = words[:-n], True
                break
    return words


@lru_cache(maxsize=200_000)
def normalise_name(name: str | None) -> str | None:
    """The comparable form of a company name; None when nothing identifying is left.

    Examples: "ACME ANALYTICS, Inc." → "acme analytics"; "Acme  Analytics Pty Ltd" →
    "acme analytics"; "The Acme Company" → "acme"; "acme.io" → "acme"; "Acme Intl Tech
    Svcs" → "acme international technology services".
    """
    if name is None:
        return None
    text = _ascii(name).strip()
    as_domain = normalise_domain(text) if " " not in text and "." in text else None
    if as_domain is not None:
        return domain_label(as_domain)
    words = _words(text)
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    words = _strip_legal_forms(words)
    words = " ".join(ABBREVIATIONS.get(w, w) for w in words).split()
    return " ".join(words) or None


@lru_cache(maxsize=200_000)
def normalise_domain(domain: str | None) -> str | None:
    """The comparable host of a web domain, URL or email address; None for free mail or junk.

    Examples: "https://www.Acme.com/about" → "acme.com"; "bob@acme.co.uk" → "acme.co.uk";
    "gmail.com" → None.
    """
    if domain is None:
        return None
    text = _SPACES.sub("", _ascii(domain))
    text = _SCHEME.sub("", text)
    text = text.rsplit("@", 1)[-1]  # an email address (or URL user info) names its domain
    text = re.split(r"[/?#]", text, maxsplit=1)[0].split(":", 1)[0].strip(".")
    while text.startswith(("www.", "www2.", "www3.")):
        text = text.split(".", 1)[1]
    if not _DOMAIN.match(text) or text in FREE_MAIL_DOMAINS:
        return None
    return text


def registrable_domain(domain: str) -> str:
    """The part of a normalised host a company registers ("emea.acme.co.uk" → "acme.co.uk")."""
    labels = domain.split(".")
    n = 3 if ".".join(labels[-2:]) in TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-n:])


def domain_label(domain: str | None) -> str | None:
    """The company's own label of a normalised host ("www.acme.co.uk" → "acme")."""
    if domain is None:
        return None
    return registrable_domain(domain).split(".")[0]


@lru_cache(maxsize=5_000)
def normalise_country(country: str | None) -> str | None:
    """ISO 3166 alpha-2 code of a country code or name; the cleaned text when unknown.

    Examples: "us", "USA", "United States" → "US"; "U.K." → "GB".
    """
    if country is None:
        return None
    text = _NOT_WORD.sub(" ", _ascii(country)).strip()
    if not text:
        return None
    if text in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[text]
    import pycountry

    for candidate in (country.strip(), text):
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return text.upper()


@lru_cache(maxsize=5_000)
def normalise_label(value: str | None) -> str | None:
    """A free-text label (region, industry) compared without case, punctuation or spacing."""
    if value is None:
        return None
    text = _NOT_WORD.sub(" ", _ascii(value).replace("&", " and ")).strip()
    return _SPACES.sub(" ", text) or None
