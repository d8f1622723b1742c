"""The suite's grouping works: tests marked with one `xdist_group` run on one worker, so a
module's costly fixture is built once (`--dist loadgroup`, the test command's setting)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("suite_grouping")


def test_a_grouped_test_carries_its_group_under_loadgroup(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("the suite runs without --dist loadgroup")
    # pytest-xdist sends a test to its group's worker by this suffix of its id; where the
    # suffix is missing (pytest-xdist 3.8 with pytest 9.2), every grouped fixture is built
    # once per worker and tests sharing state may run side by side.
    assert request.node.nodeid.endswith("@suite_grouping")
