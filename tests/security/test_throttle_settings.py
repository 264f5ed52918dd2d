"""The sign-up budget is a setting like the other throttling budgets: a positive whole number,
refused otherwise before anything starts (one line on stderr, non-zero exit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from openplate.settings import Settings
from tests.support.server import free_port


def test_the_sign_up_budget_is_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().signups_per_ip == 20
    monkeypatch.setenv("OPENPLATE_SIGNUPS_PER_IP", "7")
    assert Settings().signups_per_ip == 7
    for bad in ("0", "-3", "many", "2.5"):
        monkeypatch.setenv("OPENPLATE_SIGNUPS_PER_IP", bad)
        with pytest.raises(ValidationError):
            Settings()


def test_serve_refuses_a_bad_sign_up_budget(tmp_path: Path) -> None:
    env = {**os.environ, "OPENPLATE_SIGNUPS_PER_IP": "0",
           "OPENPLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'openplate.db'}"}
    result = subprocess.run([sys.executable, "-m", "openplate.cli", "serve", "--port", str(free_port())],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("openplate: error:"), lines
    assert "signups_per_ip" in lines[0].lower(), lines
    assert not (tmp_path / "openplate.db").exists()
