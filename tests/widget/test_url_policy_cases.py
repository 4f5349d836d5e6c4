"""The kernel's URL policy on the cases the browser's is tested with (tests/shared/url_policy_cases.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conduit_widget.url_policy import UnsafeUrl, check_media_url

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "shared" / "url_policy_cases.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.security("unsafe media URLs never reach the browser")
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_the_kernel_gives_the_browser_what_the_shared_cases_allow(case: dict[str, Any]) -> None:
    if case["allowed"]:
        assert check_media_url(case["url"]) == case["url"].strip()
    else:
        with pytest.raises(UnsafeUrl):
            check_media_url(case["url"])
