"""The REST API under /api: JSON over the same queries as the pages, documented by OpenAPI."""

from fastapi import APIRouter, Depends, Request

from quarterdeck.app.api import accounts, quality, tokens
from quarterdeck.app.auth import current_user

router = APIRouter(prefix="/api", dependencies=[Depends(current_user)])
router.include_router(accounts.router)
router.include_router(quality.router)
router.include_router(tokens.router)


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request) -> dict[str, object]:
    """The OpenAPI description of this API (signed-in users and tokens only)."""
    return request.app.openapi()
