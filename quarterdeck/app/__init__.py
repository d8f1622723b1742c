"""The web app: server-rendered pages and the REST API, both reading the app database."""

from quarterdeck.app.main import create_app

__all__ = ["create_app"]
