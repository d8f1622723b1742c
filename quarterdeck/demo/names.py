"""Word lists the demo company draws its customers, people and texts from."""

from __future__ import annotations

FIRST_NAMES = (
    "Ada Alex Amara Ana Andre Anna Ben Bianca Carla Chen Chloe Dana David Diego Elena Emma Eric "
    "Fatima Felix Grace Hana Hugo Ines Isaac Ivan Jade James Jonas Julia Kai Kenji Lara Leo Lina "
    "Lucas Maya Mei Mia Nadia Noah Nora Omar Oscar Paula Priya Rafael Rosa Sam Sara Sofia Tariq "
    "Theo Tom Uma Victor Wei Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Abbott Adeyemi Almeida Bauer Becker Bennett Brooks Castro Chen Costa Dubois Evans Fischer "
    "Garcia Gupta Hansen Hart Hoffmann Ito Jansen Kaur Keller Khan Kim Kowalski Lambert Larsen "
    "Lee Lopez Martin Meyer Moreau Murphy Nakamura Novak Okafor Olsen Patel Perez Quinn Reyes "
    "Rossi Sato Schmidt Silva Singh Sousa Suzuki Tanaka Turner Vargas Walsh Weber Wright Young "
    "Zhang"
).split()

COMPANY_PREFIXES = (
    "Acme Apex Arbor Atlas Aurora Beacon Birch Blue Bright Cedar Cobalt Compass Copper Crest "
    "Crystal Delta Ember Evergreen Falcon Fern Granite Harbor Helix Horizon Indigo Iron Juniper "
    "Keystone Lark Lumen Maple Meridian Nimbus North Oak Onyx Orbit Pine Pioneer Prism Quarry "
    "Radiant Redwood Ridge River Sable Silver Solstice Spruce Summit Terra Tidal Union Vector "
    "Vista Willow Zenith"
).split()
COMPANY_CORES = (
    "Analytics Bank Bio Brands Capital Care Cloud Commerce Consulting Data Designs Dynamics "
    "Energy Engineering Foods Freight Games Health Industries Insurance Labs Learning Legal "
    "Logistics Media Medical Metrics Mobility Networks Partners Payments Pharma Properties "
    "Retail Robotics Security Software Solutions Studios Systems Technologies Therapeutics "
    "Travel Ventures Works"
).split()
LEGAL_SUFFIX = {
    "US": ("Inc.", "LLC", "Corp."),
    "CA": ("Inc.", "Ltd."),
    "GB": ("Ltd", "plc"),
    "DE": ("GmbH", "AG"),
    "FR": ("SAS", "SA"),
    "NL": ("B.V.",),
    "ES": ("S.L.",),
    "AU": ("Pty Ltd",),
    "SG": ("Pte. Ltd.",),
}
TLD = {"US": "com", "CA": "ca", "GB": "co.uk", "DE": "de", "FR": "fr", "NL": "nl", "ES": "es",
       "AU": "com.au", "SG": "sg"}
CHILD_UNIT = ("EMEA", "APAC", "Americas", "Labs", "Digital", "Retail", "Services")

INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
    "Media", "Logistics", "Professional Services", "Real Estate",
)

TITLES = {
    "champion": ("Head of Operations", "Director of Analytics", "RevOps Lead", "Product Manager"),
    "decision_maker": ("VP Operations", "CFO", "COO", "VP Engineering", "CTO"),
    "admin": ("IT Administrator", "Systems Administrator", "Business Systems Analyst"),
    "user": ("Analyst", "Account Manager", "Operations Specialist", "Marketing Manager",
             "Engineer", "Support Lead"),
}

NPS_COMMENTS = {
    "detractor": ("Too slow for our team.", "Support took days to answer.",
                  "We barely use it since the reorg.", "Pricing is hard to justify."),
    "passive": ("Does the job.", "Reporting could be more flexible.", "Fine, a bit clunky."),
    "promoter": ("Our team lives in the dashboards.", "Great support, great product.",
                 "Saved us hours every week.", "The integrations are excellent."),
}

ACTIVITY_SUBJECTS = {
    "meeting": ("Roadmap review", "Adoption workshop", "Executive sponsor sync",
                "Admin training"),
    "qbr": ("Quarterly business review",),
    "call": ("Check-in call", "Renewal prep call", "Escalation call", "Onboarding call"),
    "email": ("Follow-up", "New feature announcement", "Usage report", "Renewal reminder"),
    "note": ("Account plan updated", "Risk noted", "Stakeholder map updated"),
    "milestone": ("Kickoff", "Go-live"),
}
