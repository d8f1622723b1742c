"""The weekly report as Markdown short enough for a chat channel: the headline figures, the
counts of each section and the top actions, with a link to each account."""

from __future__ import annotations

from quarterdeck.reports.formatting import money, percent, signed
from quarterdeck.reports.weekly_report import BridgePeriod, WeeklyReport

TOP_ACTIONS = 5


def _bridge(label: str, p: BridgePeriod) -> str:
    return (f"*{label}* {p.period}: ARR {money(p.starting_arr)} → {money(p.ending_arr)} "
            f"(new {signed(p.new)}, expansion {signed(p.expansion)}, "
            f"reactivation {signed(p.reactivation)}, contraction {signed(p.contraction)}, "
            f"churn {signed(p.churn)}, fx {signed(p.fx_adjustment)})")


def render_markdown(report: WeeklyReport, *, reader: str | None = None) -> str:
    """A few lines: bridge, retention vs target, health, renewals, alerts, quality, and the
    top actions (`reader`'s own first)."""
    r, t = report, report.retention
    red = sum(m.band_now == "red" for m in r.health_moves)
    lost = sum(d.result == "churned" for d in r.renewals_decided)
    due_arr = sum((d.arr for d in r.renewals_due), start=type(r.week.new)(0))
    forecast = (f"forecast {money(r.forecast_total.expected_arr)}" if r.forecast_total
                else "forecast not available")
    total = next((o for o in r.ops if o.group == "total"), None)
    lines = [
        f"**{r.company} — weekly report, {r.as_of}** ({r.currency})",
        _bridge("Week", r.week),
        _bridge("Quarter to date", r.quarter),
        f"*Retention (12 months)*: NRR {percent(t.nrr)} (target {percent(t.target_nrr)}), "
        f"GRR {percent(t.grr)} (target {percent(t.target_grr)})",
        f"*Health*: {len(r.health_moves)} accounts changed band, {red} turned red",
        f"*Renewals*: {len(r.renewals_decided) - lost} renewed or contracted and {lost} lost "
        f"this week; {len(r.renewals_due)} due in 90 days ({money(due_arr)} ARR, {forecast})",
        "*Alerts*: " + (", ".join(f"{a.signal} {a.count}" for a in r.alerts) or "none"),
    ]
    if total is not None:
        lines.append(f"*Operations*: {total.overdue_tasks} overdue tasks, QBR coverage "
                     f"{percent(total.qbr_coverage, 0)}, playbook execution "
                     f"{percent(total.playbook_execution_rate, 0)}")
    if r.quality:
        lines.append(f"*Data quality*: {len(r.quality)} checks not ok, affecting "
                     + ", ".join(sorted({s for q in r.quality for s in q.affects})))
    ranked = [a for _, items in r.actions_by_owner(first=reader) for a in items]
    if reader:
        mine = [a for a in ranked if a.owner_email == reader]
        ranked = mine + [a for a in ranked if a.owner_email != reader]
    lines.append("*Next best actions*:")
    for a in ranked[:TOP_ACTIONS]:
        lines.append(f"{'→' if a.owner_email == reader and reader else '•'} [{a.title}]({a.url}) "
                     f"— {a.owner_email or 'unowned'}, {money(a.arr_at_stake)} at stake, "
                     f"risk {percent(a.risk)}")
    if not ranked:
        lines.append("• none this week")
    return "\n".join(lines) + "\n"
