"""A user's own API tokens: list, create (the token is in the answer once) and revoke.

Admins manage anyone's tokens from the command line (`quarterdeck user token`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from quarterdeck.app.auth import current_user
from quarterdeck.app.params import RowId
from quarterdeck.appdb.models import User
from quarterdeck.appdb.users import UnknownTokenError, create_token, list_tokens, revoke_token

router = APIRouter(tags=["tokens"])


class TokenOut(BaseModel):
    """A token as listed; never the token itself."""

    id: int
    name: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    state: str = Field(description="active, expired or revoked")


class NewToken(BaseModel):
    """What a new token is for, what it may do and how long it lives."""

    name: str = Field(min_length=1, max_length=200)
    scope: Literal["read", "write"] = "read"
    expires_days: int | None = Field(90, ge=1, le=3650,
                                     description="Days until it expires; null = never.")


class CreatedToken(TokenOut):
    token: str = Field(description="The token, shown this once: send `Authorization: Bearer …`.")


@router.get("/tokens", response_model=list[TokenOut])
def my_tokens(request: Request, user: User = Depends(current_user)) -> list[TokenOut]:
    """The signed-in user's tokens, newest first."""
    return [TokenOut(id=t.id, name=t.name, scope=t.scope, created_at=t.created_at,
                     expires_at=t.expires_at, last_used_at=t.last_used_at, state=t.state)
            for t in list_tokens(request.app.state.engine, user.email)]


@router.post("/tokens", response_model=CreatedToken, status_code=201)
def new_token(request: Request, body: NewToken,
              user: User = Depends(current_user)) -> CreatedToken:
    """Create a token for the signed-in user; it can do no more than the user's role."""
    engine = request.app.state.engine
    lifetime = None if body.expires_days is None else timedelta(days=body.expires_days)
    token = create_token(engine, user.email, body.name, scope=body.scope, lifetime=lifetime,
                         actor=user.email)
    info = list_tokens(engine, user.email)[0]
    return CreatedToken(id=info.id, name=info.name, scope=info.scope, created_at=info.created_at,
                        expires_at=info.expires_at, last_used_at=None, state=info.state,
                        token=token)


@router.delete("/tokens/{token_id}", status_code=204,
               responses={404: {"description": "You have no token with this id."}})
def delete_token(request: Request, token_id: RowId, user: User = Depends(current_user)) -> None:
    """Revoke one of the signed-in user's tokens at once."""
    try:
        revoke_token(request.app.state.engine, token_id, actor=user.email, owner=user.email)
    except UnknownTokenError:
        raise HTTPException(404, f"You have no token {token_id}.") from None
