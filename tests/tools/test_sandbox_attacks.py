"""Every attack page of the suite, against a server the test starts on loopback: the server receives nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_no_attack_page_reaches_the_loopback_server(browser, tmp_path: Path) -> None:
    from benchmarks.attack_pages import ATTACKS, run_attacks

    attacks, escapes = run_attacks(tmp_path)
    assert attacks == len(ATTACKS) >= 25
    assert escapes == 0
