"""How current the data behind each published day is: per as-of date, every entity whose
newest fact is more than a day before it, with the sentence pages show as a warning (see
`quarterdeck.quality.data_age`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import Date, Engine, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

# The module, not its names: models imports this module while data_versions imports models.
from quarterdeck.appdb import data_versions
from quarterdeck.appdb.models import Base, PipelineRun
from quarterdeck.quality.data_age import DataAge


class StaleData(Base):
    """An entity whose newest fact was `days_behind` days before the published `as_of`."""

    __tablename__ = "stale_data"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    entity: Mapped[str] = mapped_column(String(50), primary_key=True)
    newest: Mapped[date] = mapped_column(Date)
    days_behind: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)


def publish_stale_data(engine: Engine, as_of: date, behind: Iterable[DataAge]) -> None:
    """Replace what is known of `as_of`'s data age (re-running a day gives the same rows)."""
    with Session(engine) as session, session.begin():
        session.execute(delete(StaleData).where(StaleData.as_of == as_of))
        session.add_all(StaleData(as_of=as_of, entity=a.entity, newest=a.newest,
                                  days_behind=a.days_behind, sentence=a.sentence)
                        for a in behind)
        data_versions.bump(session, data_versions.STALE_DATA)


def stale_data_sentences(engine: Engine, as_of: date | None = None) -> list[str]:
    """The warnings of a published day (of the latest successful run when `as_of` is None)."""
    with Session(engine) as session:
        if as_of is None:
            as_of = session.scalar(select(func.max(PipelineRun.as_of))
                                   .where(PipelineRun.status == "succeeded"))
        if as_of is None:
            return []
        rows = session.scalars(select(StaleData.sentence).where(StaleData.as_of == as_of)
                               .order_by(StaleData.days_behind.desc(), StaleData.entity))
        return list(rows)
