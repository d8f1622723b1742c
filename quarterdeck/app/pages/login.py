"""Signing in and out with an email and password."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from quarterdeck.app.auth import SESSION_COOKIE, safe_next, sign_in, sign_out
from quarterdeck.app.csrf import keep_anonymous_seed
from quarterdeck.app.login_throttle import locked_until, note_failure, note_success
from quarterdeck.app.rendering import render
from quarterdeck.appdb.audit import audit
from quarterdeck.appdb.database import session
from quarterdeck.appdb.models import User, utcnow
from quarterdeck.appdb.sessions import find_session
from quarterdeck.appdb.users import authenticate, normalize_email

router = APIRouter(include_in_schema=False)

# The same message whether the email or the password is wrong, so the form cannot be used
# to find out who has an account.
WRONG_CREDENTIALS = "That email and password do not match an active account."


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form; a signed-in user goes straight on."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and find_session(request.app.state.engine, session_id):
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, {"next": safe_next(next), "email": ""})


@router.post("/login")
async def login(
    request: Request,
    email: str = Form("", max_length=320),
    password: str = Form("", max_length=1000),
    next: str = Form("/accounts", max_length=2000),
) -> Response:
    """Check the credentials unless the account or address is locked; on success start a
    session and go to `next`. Argon2 runs in a worker thread so other requests never wait."""
    engine = request.app.state.engine
    address = request.client.host if request.client else None
    context = {"next": safe_next(next), "email": email}
    until = await run_in_threadpool(locked_until, engine, email, address)
    if until is not None:
        minutes = max(1, round((until - utcnow()).total_seconds() / 60))
        await run_in_threadpool(_audit_failure, request, email, address, "locked")
        message = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        return _form(request, {**context, "error": message}, status_code=429,
                     headers={"Retry-After": str(minutes * 60)})
    user = await run_in_threadpool(authenticate, engine, email, password) if (
        email and password) else None
    if user is None:
        await run_in_threadpool(note_failure, engine, normalize_email(email), address,
                                request.app.state.login_policy)
        await run_in_threadpool(_audit_failure, request, email, address, "wrong credentials")
        return _form(request, {**context, "error": WRONG_CREDENTIALS}, status_code=401)
    await run_in_threadpool(note_success, engine, user.email)
    await run_in_threadpool(_audit_success, request, user, address)
    response = RedirectResponse(safe_next(next), status_code=303)
    await run_in_threadpool(sign_in, request, response, user)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session on the server and go back to the sign-in form."""
    response = RedirectResponse("/login", status_code=303)
    sign_out(request, response)
    return response


def _form(request: Request, context: dict[str, object], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    response = render(request, "login.html", context, status_code=status_code)
    keep_anonymous_seed(request, response)
    if headers:
        response.headers.update(headers)
    return response


def _audit_failure(request: Request, email: str, address: str | None, reason: str) -> None:
    with session(request.app.state.engine) as db:
        audit(db, "anonymous", "login.failed", normalize_email(email)[:320] or None,
              reason=reason, address=address)


def _audit_success(request: Request, user: User, address: str | None) -> None:
    with session(request.app.state.engine) as db:
        audit(db, user.email, "login", user.email, address=address)
