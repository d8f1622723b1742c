"""Parameter types shared by the pages and the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

#: The largest id a database row can have (a signed 64-bit integer on every backend).
MAX_ROW_ID = 2**63 - 1
#: A row's id in a URL: a number a database can hold, so a larger one is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The row's id.")]
