"""A small world of companies spelled differently across sources, for identity resolution.

Sources: files (no prefix), `crm` (HubSpot), `stripe` (Stripe), `zendesk` (Zendesk).
What should come out, customer by customer:

| customer | accounts | why |
|---|---|---|
| acme | acme, crm:501, zendesk:9 | "ACME Inc." / "Acme, Inc" share acme.com; "acme.io" too |
| northwind | northwind | "Northwind Analytics Ltd" (GB) is not "Northwind Analysis GmbH" (DE) |
| northwind-de | northwind-de | |
| globex | globex | its child shares its domain, but a parent is never merged with its child |
| globex-emea | globex-emea | |
| crm:77 | crm:77, stripe:cus_7 | the CRM company names the Stripe customer's id (CRM first) |
| umbrella | umbrella, zendesk:55 | nothing matches, but identity.yml confirms them |
| hooli | hooli, zendesk:70 | the help desk's "HOOLI INC" matches both Hoolis … |
| hooli-xyz | hooli-xyz | … but identity.yml splits hooli from hooli-xyz, so only one gets it |
| vandelay | vandelay | both Vandelays pay: a fuzzy match goes to review, not merged |
| stripe:cus_v | stripe:cus_v | |

Survivorship (identity.yml): owner_email comes from the CRM first, everything else from files
first. So acme keeps its file name, domain and segment but takes the CRM's owner.
Tickets: t1 is filed under zendesk:9, t2 under acme; both count for acme.

Example: identity_world()["accounts"], IDENTITY_YML, SOURCE_KINDS.
"""

from __future__ import annotations

from quarterdeck.testing.worlds import World, world

SOURCE_KINDS = {"crm": "hubspot", "stripe": "stripe", "zendesk": "zendesk"}

IDENTITY_YML = """\
threshold: 0.9
review_band: 0.4
survivorship:
  owner_email: [crm, files]   # the CRM knows who owns the account
confirm:
  - [umbrella, "zendesk:55"]
split:
  - [hooli, hooli-xyz]
"""

EXPECTED_CUSTOMERS = {
    "acme": {"acme", "crm:501", "zendesk:9"},
    "northwind": {"northwind"},
    "northwind-de": {"northwind-de"},
    "globex": {"globex"},
    "globex-emea": {"globex-emea"},
    "crm:77": {"crm:77", "stripe:cus_7"},
    "umbrella": {"umbrella", "zendesk:55"},
    "hooli": {"hooli", "zendesk:70"},
    "hooli-xyz": {"hooli-xyz"},
    "vandelay": {"vandelay"},
    "stripe:cus_v": {"stripe:cus_v"},
}


def _account(account_id: str, name: str, created_at: str, **more: object) -> dict[str, object]:
    return {"account_id": account_id, "name": name, "created_at": created_at, **more}


def _sub(sub_id: str, account_id: str) -> dict[str, object]:
    return {"subscription_id": sub_id, "account_id": account_id, "plan": "team",
            "quantity": 10, "unit_price": "50", "currency": "USD", "interval_months": 1,
            "start_date": "2024-01-01"}


def identity_world() -> World:
    """The accounts, subscriptions and tickets of the table above."""
    return world(
        accounts=[
            _account("acme", "ACME Inc.", "2023-01-01", domain="acme.com", country="US",
                     region="NA", industry="Software", segment="Enterprise",
                     owner_email="ann@vendor.com"),
            _account("crm:501", "Acme, Inc", "2023-03-01", domain="https://www.acme.com/",
                     country="United States", region="NA", industry="Software",
                     segment="Mid-Market", owner_email="bob@vendor.com"),
            _account("zendesk:9", "acme.io", "2023-06-01", country="US", region="NA"),
            _account("northwind", "Northwind Analytics Ltd", "2023-01-01",
                     domain="northwind-analytics.co.uk", country="GB", region="EMEA",
                     industry="Software"),
            _account("northwind-de", "Northwind Analysis GmbH", "2023-02-01",
                     domain="northwind-analysis.de", country="DE", region="EMEA",
                     industry="Software"),
            _account("globex", "Globex Corporation", "2023-01-01", domain="globex.com",
                     country="US", region="NA"),
            _account("globex-emea", "Globex Corporation", "2023-05-01", domain="globex.com",
                     country="US", region="NA", parent_account_id="globex"),
            _account("crm:77", "Initech LLC", "2023-04-01", country="US",
                     external_ids='{"stripe": "cus_7"}'),
            _account("stripe:cus_7", "Initech billing", "2023-04-02"),
            _account("umbrella", "Umbrella Corp", "2023-01-01", domain="umbrella.com"),
            _account("zendesk:55", "Umbrella Health Services", "2023-07-01"),
            _account("hooli", "Hooli Inc", "2023-01-01", country="US", region="NA",
                     industry="Media"),
            _account("hooli-xyz", "Hooli, Inc.", "2023-02-01", country="US", region="NA",
                     industry="Media"),
            _account("zendesk:70", "HOOLI INC", "2023-08-01", country="US", region="NA",
                     industry="Media"),
            _account("vandelay", "Vandelay Industries", "2023-01-01", country="US",
                     region="NA", industry="Manufacturing"),
            _account("stripe:cus_v", "Vandelay Industries Inc", "2023-02-01", country="US",
                     region="NA", industry="Manufacturing"),
        ],
        subscriptions=[_sub("s-acme", "acme"), _sub("s-initech", "stripe:cus_7"),
                       _sub("s-vandelay", "vandelay"), _sub("s-vandelay-2", "stripe:cus_v")],
        tickets=[
            {"ticket_id": "t1", "account_id": "zendesk:9", "created_at": "2024-02-01"},
            {"ticket_id": "t2", "account_id": "acme", "created_at": "2024-03-01"},
            {"ticket_id": "t3", "account_id": "stripe:cus_7", "created_at": "2024-03-05"},
        ],
    )
