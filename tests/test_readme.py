"""The README is the front door: its configuration table and commands stay true."""

from __future__ import annotations

from pathlib import Path

from guard.config.settings import settings_table

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_table_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = readme.index("<!-- settings-table:end -->")
    assert readme[start:end].strip() == settings_table()


def test_the_two_commands_exist_and_ci_runs_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/demo.sh" in readme
    assert "bash scripts/test.sh" in readme
    assert (ROOT / "scripts" / "demo.sh").is_file()
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
