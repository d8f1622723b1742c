"""Names, domains and countries are compared in one normalised form."""

from __future__ import annotations

import pytest

from quarterdeck.identity.normalise import (
    domain_label,
    normalise_country,
    normalise_domain,
    normalise_name,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("ACME Inc.", "acme"),
    ("Acme, Inc", "acme"),
    ("acme.io", "acme"),
    ("ACME ANALYTICS, Inc.", "acme analytics"),
    ("acme analytics inc", "acme analytics"),
    ("Acme  Analytics   Inc.", "acme analytics"),
    ("Acme Analytics Pty Ltd", "acme analytics"),
    ("ACME ANALYTICS PTE., Ltd.", "acme analytics"),
    ("Acme Analytics S.A.", "acme analytics"),
    ("Acme Analytics B.V.", "acme analytics"),
    ("Acme Analytics GmbH & Co. KG", "acme analytics"),
    ("Acme Analytics plc", "acme analytics"),
    ("The Acme Company", "acme"),
    ("Société Générale S.A.", "societe generale"),
    ("Plan A", "plan a"),
    ("Inc.", "inc"),  # a name is never emptied by its legal form
])
def test_names_lose_case_punctuation_spacing_and_legal_forms(raw, expected):
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("acme.com", "acme.com"),
    ("https://www.Acme.com/about?x=1", "acme.com"),
    ("WWW.ACME.COM.", "acme.com"),
    ("http://acme.com:8080", "acme.com"),
    ("bob@acme.co.uk", "acme.co.uk"),
    ("emea.acme.com", "emea.acme.com"),
    ("gmail.com", None),
    ("jane@hotmail.com", None),
    ("not a domain", None),
    ("", None),
    (None, None),
])
def test_domains_lose_scheme_www_path_and_free_mail(raw, expected):
    assert normalise_domain(raw) == expected


def test_the_domain_label_is_the_registered_name():
    assert domain_label("www.acme.co.uk".removeprefix("www.")) == "acme"
    assert domain_label("emea.acme.com") == "acme"
    assert domain_label(None) is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("US", "US"), ("usa", "US"), ("United States", "US"), ("U.K.", "GB"), ("Germany", "DE"),
    ("deu", "DE"), ("Korea, Republic of", "KR"), (" ", None), (None, None),
])
def test_countries_become_iso_codes(raw, expected):
    assert normalise_country(raw) == expected
