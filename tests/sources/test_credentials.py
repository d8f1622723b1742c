"""Source credentials: environment first, then a private secrets.yml; never shown."""

from __future__ import annotations

import pytest

from quarterdeck.errors import QuarterdeckError
from quarterdeck.sources.credentials import MissingCredential, env_name, load_credentials


def test_the_environment_wins_over_the_secrets_file(tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("billing-eu:\n  api_key: from-file\n  other: x\n")
    secrets.chmod(0o600)
    creds = load_credentials(tmp_path, "billing-eu", ("api_key", "other"))
    assert creds.require("api_key") == "from-file"
    monkeypatch.setenv(env_name("billing-eu", "api_key"), "from-env")
    assert env_name("billing-eu", "api_key") == "QUARTERDECK_BILLING_EU_API_KEY"
    creds = load_credentials(tmp_path, "billing-eu", ("api_key", "other"))
    assert creds.require("api_key") == "from-env"
    assert "from-env" not in repr(creds) and "from-env" not in repr(creds.get("api_key"))
    assert "from-env" not in str(creds.get("api_key"))


def test_a_missing_secret_names_where_to_put_it(tmp_path):
    creds = load_credentials(tmp_path, "stripe", ("api_key",))
    with pytest.raises(MissingCredential, match="QUARTERDECK_STRIPE_API_KEY"):
        creds.require("api_key")


def test_a_secrets_file_others_can_read_is_refused(tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("stripe:\n  api_key: sk_test_1\n")
    secrets.chmod(0o644)
    with pytest.raises(QuarterdeckError, match="chmod 600"):
        load_credentials(tmp_path, "stripe", ("api_key",))


def test_a_broken_secrets_file_does_not_echo_its_contents(tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("stripe:\n  api_key: sk_live_secret: [\n")
    secrets.chmod(0o600)
    with pytest.raises(QuarterdeckError) as caught:
        load_credentials(tmp_path, "stripe", ("api_key",))
    assert "sk_live_secret" not in str(caught.value)
