"""The team file as the app uses it: who is in the team (as the last run published it), the
rows refused at the latest load of the team file, and the people the app cannot place.

The team is data, not a definition file: it is loaded like any file of the data contract
(`quarterdeck load team.csv`) and published by `quarterdeck run`. Its problems are therefore
the rows the loader refused, with file, line and field, as written to `data/rejects/` by the
latest load of the team (an older load's refusals are history, not a problem of today's team);
and, for the published team, managers named but not in it and accounts (not churned) owned by
someone who is not in it (their alerts and tasks reach no one the team file knows).

Example: team_definition(engine, Path("/srv/acme")).entries[0].facts["People"] →
"4: 1 manager, 3 csm".
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, func, select

from quarterdeck.app.definitions_summary import Entry, Table
from quarterdeck.app.definitions_view import Definition, Problem, shown_path
from quarterdeck.appdb.data_versions import BOOK, SNAPSHOT, cached
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import AccountSnapshot
from quarterdeck.appdb.operations_models import TeamMember
from quarterdeck.appdb.publish import latest_as_of

ROLE_ORDER = ("admin", "ops", "manager", "csm", "viewer")
SHOWN_REJECTS = 20
TEAM_FILE = "team file (as published)"


def latest_team_rejects(data_dir: Path) -> tuple[list[Problem], int]:
    """The problems of the latest load of the team file when it refused rows (the first
    `SHOWN_REJECTS` of them, and how many there were), else none.

    A load writes its rejects file (`team-<second>-<name>.rejects.csv`) just before it lands
    the accepted rows (`landing/team/<second><micro>Z-<hash>.parquet`); a landed version from a
    later second belongs to a later load."""
    rejects = sorted((data_dir / "rejects").glob("team-*.rejects.csv"),
                     key=lambda p: p.name.split("-")[1])
    if not rejects:
        return [], 0
    newest = rejects[-1]
    stamp = newest.name.split("-")[1]
    landed = [p.name[:15] for p in (data_dir / "landing" / "team").glob("*.parquet")
              if p.name[:1].isdigit()]
    if landed and max(landed) > stamp:
        return [], 0
    problems, total = [], 0
    root = data_dir.parent
    with newest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            total += 1
            if total > SHOWN_REJECTS:
                continue
            line = row.get("line") or ""
            value = row.get("value")
            problems.append(Problem(
                message=(row.get("reason") or "refused") + (f" (value {value!r})" if value
                                                             else ""),
                file=shown_path(root, row.get("file") or newest.name),
                line=int(line) if line.isdigit() else None, field=row.get("field") or None))
    return problems, total


def _people(members: list[TeamMember]) -> str:
    counts = Counter(m.role for m in members)
    return f"{len(members)}: " + ", ".join(f"{counts[r]} {r}" for r in ROLE_ORDER if counts[r])


def _published_team(engine: Engine) -> tuple[date | None, list[TeamMember], dict[str, int]]:
    """The team as the book last published it, and the accounts (not churned) each email
    owns in the latest snapshot: kept until either is published again (the count reads every
    account)."""
    as_of = latest_as_of(engine)
    with session(engine) as db:
        members = list(db.scalars(select(TeamMember)))
        owned: dict[str, int] = {}
        if as_of is not None:
            owned = {str(email).lower(): n for email, n in db.execute(
                select(AccountSnapshot.owner_email, func.count())
                .where(AccountSnapshot.as_of == as_of, AccountSnapshot.owner_email.is_not(None),
                       AccountSnapshot.status != "churned")
                .group_by(AccountSnapshot.owner_email))}
    return as_of, members, owned


def team_definition(engine: Engine, root: Path) -> Definition:
    """The team as published, with its problems (see the module)."""
    as_of, members, owned = cached(engine, ("published_team",), (SNAPSHOT, BOOK),
                            lambda: _published_team(engine))
    problems, total = latest_team_rejects(root / "data")
    notes = []
    if total > SHOWN_REJECTS:
        notes.append(f"The latest load of the team file refused {total} rows; the first "
                     f"{SHOWN_REJECTS} are shown.")
    if problems:
        notes.append("The app keeps the team of the last good load until the file loads "
                     "again (quarterdeck load, then quarterdeck run).")
    emails = {m.email.lower() for m in members}
    for m in sorted(members, key=lambda m: m.email):
        if m.manager_email and m.manager_email.lower() not in emails:
            problems.append(Problem(
                message=f"{m.email}'s manager {m.manager_email} is not in the team: nobody "
                        "manages their accounts in the app", file=TEAM_FILE, field="manager_email",
                severity="warning"))
    if members:
        for email, n in sorted(owned.items()):
            if email not in emails:
                problems.append(Problem(
                    message=f"{n} account{'s are' if n != 1 else ' is'} owned by {email}, who "
                            "is not in the team: their alerts and tasks go to no one in it",
                    file="accounts", field="owner_email", severity="warning"))
    status = "error" if any(p.severity == "error" for p in problems) else \
        "warning" if problems else "ok"
    if not members:
        notes.append("No team is published yet: load a team file (quarterdeck load "
                     "team.csv), then quarterdeck run.")
        return Definition(kind="team", title="Team", file=TEAM_FILE, status=status,
                          problems=problems, notes=notes)
    order = {r: i for i, r in enumerate(ROLE_ORDER)}
    rows = [[m.name, m.email, m.role, m.manager_email or "—",
             f"{m.capacity_accounts:,}" if m.capacity_accounts is not None else "—",
             f"{m.capacity_arr:,.0f}" if m.capacity_arr is not None else "—",
             f"{owned.get(m.email.lower(), 0):,}"]
            for m in sorted(members, key=lambda m: (order.get(m.role, 9), m.name))]
    managers = sorted({m.manager_email for m in members if m.manager_email})
    entry = Entry(name="Team", description="As published by the last run"
                  + (f" (as of {as_of.isoformat()})." if as_of else "."), facts={
                      "People": _people(members),
                      "Managers named": str(len(managers)),
                      "With an account target": str(sum(m.capacity_accounts is not None
                                                        for m in members)),
                  }, table=Table(columns=["Name", "Email", "Role", "Manager", "Target accounts",
                                          "Target ARR", "Accounts owned"], rows=rows))
    return Definition(kind="team", title="Team", file=TEAM_FILE, status=status, problems=problems,
                      notes=notes, entries=[entry])
