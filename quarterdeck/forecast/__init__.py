"""The renewal forecast: upcoming renewal decisions with their probability of renewing,
roll-ups by period with a 90% interval, and the backtest that measures its accuracy.

Public API: `upcoming_decisions`, `renewal_forecast`, `forecast_periods`,
`renewed_arr_interval`, `forecast_accuracy`. See docs/forecast.md.
"""

from quarterdeck.forecast.accuracy import forecast_accuracy
from quarterdeck.forecast.forecast_periods import forecast_periods
from quarterdeck.forecast.renewal_decisions import upcoming_decisions
from quarterdeck.forecast.renewal_forecast import renewal_forecast
from quarterdeck.forecast.renewed_arr_interval import renewed_arr_interval

__all__ = ["forecast_accuracy", "forecast_periods", "renewal_forecast", "renewed_arr_interval",
           "upcoming_decisions"]
