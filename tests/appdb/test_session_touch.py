"""A busy server reads sessions on every request and marks them used now and then: marking one
never fails because another request wrote in between."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select, update

from quarterdeck.appdb import add_user, make_engine, migrate
from quarterdeck.appdb.models import utcnow
from quarterdeck.appdb.security import UserSession
from quarterdeck.appdb.sessions import TOUCH_INTERVAL, _hash, find_session, start_session


def test_a_session_is_marked_used_while_another_request_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    migrate(url)
    web, other = make_engine(url), make_engine(url)
    user = add_user(web, "ana@example.com", "Ana", "csm", "a long enough password")
    mine, theirs = start_session(web, user.id), start_session(web, user.id)
    a_while_ago = utcnow() - TOUCH_INTERVAL - timedelta(seconds=5)
    with web.begin() as connection:
        connection.execute(update(UserSession).values(last_seen_at=a_while_ago))
    wrote: list[bool] = []

    @event.listens_for(web, "after_cursor_execute")
    def meanwhile(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # Right after this request has read its session, another request marks its own.
        if statement.lstrip().startswith("SELECT") and not wrote:
            wrote.append(True)
            with other.begin() as connection:
                connection.execute(update(UserSession).where(
                    UserSession.id_hash == _hash(theirs)).values(last_seen_at=utcnow()))

    assert find_session(web, mine) is not None
    assert wrote == [True]
    with web.connect() as connection:
        seen = connection.scalar(select(UserSession.last_seen_at).where(
            UserSession.id_hash == _hash(mine)))
    assert seen > a_while_ago
    web.dispose()
    other.dispose()
