"""The app database: users, tokens, published snapshots, pipeline runs and the audit log.

The pipeline writes here with `publish_snapshot`; the web app reads only from here.
"""

from quarterdeck.appdb.database import make_engine, migrate, session
from quarterdeck.appdb.publish import latest_as_of, publish_snapshot
from quarterdeck.appdb.users import add_user, authenticate, create_token, user_for_token

__all__ = [
    "add_user",
    "authenticate",
    "create_token",
    "latest_as_of",
    "make_engine",
    "migrate",
    "publish_snapshot",
    "session",
    "user_for_token",
]
