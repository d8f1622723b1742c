"""The pipeline runs the quality stage: a stale source is a note of the run and a warning on
the health scores it feeds, published with the report in one transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from quarterdeck.appdb import make_engine
from quarterdeck.appdb.models import DataQualityCheck, HealthScore
from quarterdeck.ingest import load_into_workspace
from quarterdeck.pipeline import run_pipeline
from quarterdeck.testing.quality_worlds import AS_OF
from quarterdeck.workspace.init import init_workspace
from quarterdeck.workspace.workspace import open_workspace

STALE = "tickets from files are 9 days old (expected every 1d)"


def _inbox(folder: Path) -> Path:
    folder.mkdir()
    (folder / "accounts.csv").write_text(
        "account_id,name,segment,created_at\nacme,Acme,SMB,2024-01-01\n"
        "globex,Globex,SMB,2024-01-01\n")
    (folder / "subscriptions.csv").write_text(
        "subscription_id,account_id,plan,quantity,unit_price,currency,interval_months,start_date\n"
        "s1,acme,team,10,50,USD,1,2024-01-15\ns2,globex,team,5,50,USD,1,2024-02-01\n")
    (folder / "tickets.csv").write_text(
        "ticket_id,account_id,created_at,priority\n"
        "t1,acme,2024-06-01T10:00:00,urgent\nt2,globex,2024-06-20T14:00:00,normal\n")
    (folder / "events.csv").write_text(
        "event_id,timestamp,event,account_id\n"
        "e1,2024-06-29T10:00:00,login,acme\ne2,2024-06-29T11:00:00,report,globex\n")
    return folder


def test_a_stale_source_is_a_run_note_and_a_warning_on_the_scores_it_feeds(tmp_path: Path):
    init_workspace(tmp_path / "ws")
    ws = open_workspace(tmp_path / "ws")
    assert load_into_workspace(ws, [_inbox(tmp_path / "in")]).ok
    result = run_pipeline(ws, AS_OF)
    assert f"warning: {STALE}" in result.notes
    assert result.quality is not None and [r.entity for r in result.quality.stale] == ["tickets"]
    engine = make_engine(ws.app_database_url)
    try:
        with engine.connect() as connection:
            warnings = dict(connection.execute(
                select(HealthScore.account_id, HealthScore.data_warnings)
                .where(HealthScore.as_of == AS_OF)).all())
            published = connection.execute(
                select(DataQualityCheck.detail).where(DataQualityCheck.as_of == AS_OF,
                                                      DataQualityCheck.status == "error")
            ).scalars().all()
    finally:
        engine.dispose()
    assert warnings == {"acme": f"{STALE}: feeds csat_90d, urgent_tickets_30d",
                        "globex": f"{STALE}: feeds csat_90d, urgent_tickets_30d"}
    assert published == [STALE]
