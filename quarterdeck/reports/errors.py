"""The problems a report can meet, each carrying what the user needs to fix it."""

from __future__ import annotations

from quarterdeck.errors import QuarterdeckError


class UnknownAccountError(QuarterdeckError):
    """An account id that is not among the accounts published for the date."""


class TemplateError(QuarterdeckError):
    """A presentation template that cannot hold the deck (missing file or layouts)."""


class DeliveryError(QuarterdeckError):
    """A report that could not be delivered to a channel after every retry."""
