"""identity.yml: validated with file, line and field; overrides recorded with comments kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from quarterdeck.errors import WorkspaceError
from quarterdeck.identity.definitions import IdentityDefinitions, load_identity_definitions
from quarterdeck.identity.overrides import record_override


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "identity.yml").write_text(text)
    return folder


def test_without_the_file_every_setting_has_its_default(tmp_path):
    assert load_identity_definitions(tmp_path) == IdentityDefinitions()


@pytest.mark.parametrize(("text", "line", "field", "reason"), [
    ("threshold: 1.5\n", 1, "threshold", "less than or equal to 1"),
    ("threshold: 0.9\nreview_band: 0.95\n", 1, None, "review_band must be smaller"),
    ("survivorship:\n  owner: [crm]\n", 2, "survivorship.owner.[key]",
     "'owner' is not an account field"),
    ("split:\n  - [a1]\n", 2, "split.0", "pair of account ids"),
    ("confirm:\n  - [a, b]\n  - [a1, a1]\n", 3, "confirm.1", "names one account twice"),
    ("confirm: [[a, b]]\nsplit: [[b, a]]\n", 1, None, "both confirmed and split"),
    ("source_priority: [files, Stripe]\n", 1, "source_priority.1", "not a source name"),
    ("treshold: 0.8\n", 1, "treshold", "unknown setting"),
])
def test_a_bad_setting_names_file_line_and_field(tmp_path, text, line, field, reason):
    with pytest.raises(WorkspaceError) as caught:
        load_identity_definitions(write(tmp_path, text))
    error = caught.value
    assert error.file.endswith("identity.yml") and reason in error.reason
    assert (error.line, error.field) == (line, field)


def test_a_confirmation_is_appended_under_its_list_and_comments_stay(tmp_path):
    folder = write(tmp_path, "# our overrides\nthreshold: 0.85  # tuned\nconfirm:\n"
                   "  - [a1, b1]   # same company\n\nsplit: []\n")
    assert record_override(folder, "confirm", "a2", "zendesk:7")
    text = (folder / "identity.yml").read_text()
    assert text == ("# our overrides\nthreshold: 0.85  # tuned\nconfirm:\n"
                    "  - [a1, b1]   # same company\n  - [a2, 'zendesk:7']\n\nsplit: []\n")
    assert load_identity_definitions(folder).confirm == [["a1", "b1"], ["a2", "zendesk:7"]]


def test_splitting_a_confirmed_pair_moves_it(tmp_path):
    folder = write(tmp_path, "confirm:\n  - [a1, b1]\n  - [a2, b2]\n")
    assert record_override(folder, "split", "b2", "a2")
    definitions = load_identity_definitions(folder)
    assert definitions.confirm == [["a1", "b1"]] and definitions.split == [["b2", "a2"]]
    assert not record_override(folder, "split", "a2", "b2")  # already there


def test_the_first_override_creates_the_file(tmp_path):
    folder = tmp_path / "definitions"
    assert record_override(folder, "split", "a", "b")
    assert load_identity_definitions(folder).split == [["a", "b"]]
    assert (folder / "identity.yml").read_text().startswith("# Identity resolution")


def test_every_setting_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "identity.md").read_text()
    for name in IdentityDefinitions.model_fields:
        assert f"`{name}`" in doc, f"docs/identity.md does not document {name}"


def test_init_writes_the_defaults_and_overrides_land_under_their_comments(tmp_path):
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    init_workspace(tmp_path / "ws")
    definitions = tmp_path / "ws" / "definitions"
    assert load_identity_definitions(definitions) == IdentityDefinitions()
    record_override(definitions, "confirm", "acct-1", "support:361")
    record_override(definitions, "split", "a", "b")
    text = (definitions / "identity.yml").read_text()
    assert "# Pairs of account ids that are different companies:" in text
    loaded = open_workspace(tmp_path / "ws").identity
    assert (loaded.confirm, loaded.split) == ([["acct-1", "support:361"]], [["a", "b"]])


def test_opening_the_workspace_checks_identity_yml(tmp_path):
    from quarterdeck.workspace.init import init_workspace
    from quarterdeck.workspace.workspace import open_workspace

    init_workspace(tmp_path / "ws")
    path = tmp_path / "ws" / "definitions" / "identity.yml"
    path.write_text(path.read_text().replace("threshold: 0.9", "threshold: 2"))
    with pytest.raises(WorkspaceError) as caught:
        open_workspace(tmp_path / "ws")
    assert caught.value.file.endswith("identity.yml") and caught.value.field == "threshold"
