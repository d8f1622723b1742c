"""Signing in and out with an email and password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from quarterdeck.app.auth import current_user, safe_next, sign_in, sign_out
from quarterdeck.app.rendering import render
from quarterdeck.appdb.audit import record
from quarterdeck.appdb.database import session
from quarterdeck.appdb.users import authenticate, get_user, normalize_email

router = APIRouter(include_in_schema=False)

# The same message whether the email or the password is wrong, so the form cannot be used
# to find out who has an account.
WRONG_CREDENTIALS = "That email and password do not match an active account."


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form; a signed-in user goes straight on."""
    user_id = request.session.get("user_id")
    if isinstance(user_id, int) and get_user(request.app.state.engine, user_id):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "email": ""})


@router.post("/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/accounts"),
) -> Response:
    """Check the credentials; on success start a session and go to `next`."""
    engine = request.app.state.engine
    user = authenticate(engine, email, password) if email and password else None
    with session(engine) as db:
        if user is None:
            record(db, "anonymous", "login.failed", normalize_email(email)[:320], None)
        else:
            record(db, user.email, "login", user.email, None)
    if user is None:
        context = {"next": safe_next(next), "email": email, "error": WRONG_CREDENTIALS}
        return render(request, "login.html", context, status_code=401)
    sign_in(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(current_user)])
def logout(request: Request) -> Response:
    """End the session and go back to the sign-in form."""
    sign_out(request)
    return RedirectResponse("/login", status_code=303)
