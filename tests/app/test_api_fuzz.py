"""Every operation of the REST API's OpenAPI document, fuzzed by schemathesis: whatever the
parameters and bodies the document allows (and the odd ones it does not), no server error.

Each operation gets a bounded number of generated requests (`EXAMPLES`), sent in-process to the
app over the hand-made world with an admin's write token, so the run stays a few seconds per
operation; a 5xx fails with the request that caused it.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from quarterdeck.app import create_app
from quarterdeck.appdb import create_token
from tests.app.conftest import build_world

EXAMPLES = 30


def _world_app() -> tuple[str, object]:
    """The app over the world in a temporary folder, and an admin's write token.

    Built when the module is collected: the operations to fuzz are read from the app's own
    OpenAPI document, so a new API route is fuzzed without being listed here."""
    folder = Path(tempfile.mkdtemp(prefix="qd-fuzz-"))
    atexit.register(shutil.rmtree, folder, True)
    url = f"sqlite:///{folder / 'app.db'}"
    build_world(url)
    app = create_app(url, secret_key="fuzz", workspace_name="Example Co")
    atexit.register(app.state.engine.dispose)
    return create_token(app.state.engine, "admin@example.com", "schema", scope="read"), app


TOKEN, APP = _world_app()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP, headers=AUTH)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
def test_no_operation_answers_with_a_server_error(case):
    # A fresh token per request: the fuzzer may revoke the one it was given (DELETE
    # /api/tokens/{id}), and every later request would only test the 401.
    token = create_token(APP.state.engine, "admin@example.com", "fuzz", scope="write")
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                           checks=[not_a_server_error])
