"""`quarterdeck user`: the people who can sign in, their roles and their API tokens.

Every change is written to the audit log with the operating-system account that made it.
"""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from quarterdeck.cli.errors import friendly_errors
from quarterdeck.cli.options import WorkspaceOpt

if TYPE_CHECKING:
    from sqlalchemy import Engine

user_app = typer.Typer(help="Manage the people who can sign in to the web app.",
                       no_args_is_help=True)
token_app = typer.Typer(help="API tokens: create, list and revoke.", no_args_is_help=True)
user_app.add_typer(token_app, name="token")
console = Console()

EmailArg = Annotated[str, typer.Argument(help="The user's email.")]
PasswordStdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input.")]
GenerateOpt = Annotated[bool, typer.Option(
    "--generate-password", help="Make a random password and print it once.")]


def _engine(workspace: object) -> Engine:
    from quarterdeck.appdb.database import make_engine, migrate
    from quarterdeck.workspace.workspace import open_workspace

    ws = open_workspace(workspace)  # type: ignore[arg-type]
    engine = make_engine(ws.app_database_url)
    migrate(engine)
    return engine


def _actor() -> str:
    """Who made a change from the command line: the operating-system account."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _new_password(password: str | None, from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The password to set and whether it was generated (and must be printed).

    Without a terminal and without a password given, one is generated: a script never hangs
    on a prompt.
    """
    from quarterdeck.appdb.users import generate_password

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if password is not None:
        return password, False
    if generate or not sys.stdin.isatty():
        return generate_password(), True
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


def _print_generated(email: str) -> None:
    console.print(f"Password for {email} (shown this once):", highlight=False)


@user_app.command("add")
@friendly_errors
def user_add(
    email: Annotated[str, typer.Argument(help="Email to sign in with.")],
    name: Annotated[str | None, typer.Option(help="Full name (default: from the email).")] = None,
    role: Annotated[str, typer.Option(help="admin, ops, manager, csm or viewer.")] = "admin",
    password: Annotated[str | None, typer.Option(
        help="Password; prefer --password-stdin or the prompt (shell history keeps options).",
    )] = None,
    password_stdin: PasswordStdinOpt = False,
    generate_password: GenerateOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a user who can sign in to the web app."""
    from quarterdeck.appdb.users import add_user

    secret, generated = _new_password(password, password_stdin, generate_password)
    engine = _engine(workspace)
    add_user(engine, email, name or email.split("@")[0].replace(".", " ").title(), role, secret,
             actor=_actor())
    console.print(f"User {email} ({role}) added", highlight=False)
    if generated:
        _print_generated(email)
        print(secret)


@user_app.command("list")
@friendly_errors
def user_list(workspace: WorkspaceOpt = None) -> None:
    """List the users who can sign in."""
    from sqlalchemy import select

    from quarterdeck.appdb.database import session
    from quarterdeck.appdb.models import User

    table = Table("email", "name", "role", "active")
    with session(_engine(workspace)) as db:
        for user in db.scalars(select(User).order_by(User.email)):
            table.add_row(user.email, user.name, user.role, "yes" if user.active else "no")
    console.print(table)


@user_app.command("deactivate")
@friendly_errors
def user_deactivate(email: EmailArg, workspace: WorkspaceOpt = None) -> None:
    """Stop a user signing in: their sessions end now and their tokens stop working."""
    from quarterdeck.appdb.users import set_active

    set_active(_engine(workspace), email, False, actor=_actor())
    console.print(f"User {email} deactivated", highlight=False)


@user_app.command("activate")
@friendly_errors
def user_activate(email: EmailArg, workspace: WorkspaceOpt = None) -> None:
    """Let a deactivated user sign in again."""
    from quarterdeck.appdb.users import set_active

    set_active(_engine(workspace), email, True, actor=_actor())
    console.print(f"User {email} activated", highlight=False)


@user_app.command("set-role")
@friendly_errors
def user_set_role(
    email: EmailArg,
    role: Annotated[str, typer.Argument(help="admin, ops, manager, csm or viewer.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Give a user another role; it applies from their next request."""
    from quarterdeck.appdb.users import set_role

    set_role(_engine(workspace), email, role, actor=_actor())
    console.print(f"User {email} is now {role}", highlight=False)


@user_app.command("reset-password")
@friendly_errors
def user_reset_password(
    email: EmailArg,
    password_stdin: PasswordStdinOpt = False,
    generate_password: GenerateOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Set a new password; every session of the user ends."""
    from quarterdeck.appdb.users import reset_password

    secret, generated = _new_password(None, password_stdin, generate_password)
    reset_password(_engine(workspace), email, secret, actor=_actor())
    console.print(f"Password of {email} reset; their sessions have ended", highlight=False)
    if generated:
        _print_generated(email)
        print(secret)


@token_app.command("create")
@friendly_errors
def token_create(
    email: EmailArg,
    name: Annotated[str, typer.Option(help="What the token is for (shown in lists).")],
    scope: Annotated[str, typer.Option(help="read (GET only) or write.")] = "read",
    expires_days: Annotated[int, typer.Option(
        help="Days until the token expires; 0 = never.", min=0, max=3650)] = 90,
    workspace: WorkspaceOpt = None,
) -> None:
    """Create an API token for a user and print it once (only its hash is kept)."""
    from quarterdeck.appdb.users import create_token

    lifetime = timedelta(days=expires_days) if expires_days else None
    try:
        token = create_token(_engine(workspace), email, name, scope=scope, lifetime=lifetime,
                             actor=_actor())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scope") from None
    console.print(f"Token {name!r} ({scope}) for {email}, shown this once:", highlight=False)
    print(token)


@token_app.command("list")
@friendly_errors
def token_list(
    email: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List API tokens (never the tokens themselves): owner, scope, expiry, last use, state."""
    from quarterdeck.appdb.users import list_tokens

    table = Table("id", "email", "name", "scope", "created", "expires", "last used", "state")
    for t in list_tokens(_engine(workspace), email):
        table.add_row(str(t.id), t.email, t.name, t.scope, f"{t.created_at:%Y-%m-%d}",
                      f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never",
                      f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never", t.state)
    console.print(table)


@token_app.command("revoke")
@friendly_errors
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (from `token list`).")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Revoke an API token at once."""
    from quarterdeck.appdb.users import revoke_token

    revoke_token(_engine(workspace), token_id, actor=_actor())
    console.print(f"Token {token_id} revoked")
