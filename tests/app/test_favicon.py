"""Every page names the app's icon, served without sign-in like the stylesheet."""

from __future__ import annotations


def test_pages_link_the_icon_and_it_is_served(client, signed_in):
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").text
    assert 'rel="icon" href="/static/favicon.svg"' in signed_in.get("/accounts").text
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg") and ">Q</text>" in icon.text
