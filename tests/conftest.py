"""Shared test fixtures. Tests never touch the network; ../shared is optional."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def shared_dir() -> Path:
    """../shared beside the project; tests that need it skip cleanly when it is absent."""
    if not (SHARED / "datasets").is_dir():
        pytest.skip("../shared/datasets is not present")
    return SHARED


@pytest.fixture(autouse=True)
def _no_model_env(monkeypatch, tmp_path):
    """No test inherits a real endpoint or key, and no test reads the user's real keys file."""
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PERSONA_ASSISTANT_MODEL",
                "PERSONA_ASSISTANT_BASE_URL", "PERSONA_ASSISTANT_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
