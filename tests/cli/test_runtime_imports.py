"""The worker's path never loads development tooling (issue 12).

``guard/devbroker`` downloads Kafka through Maven and runs a JVM: it is there
for ``guard dev-broker``, ``guard demo`` and the tests. The image ships the
whole package, so what keeps it out of production is that nothing a deployed
command runs imports it. Checked in a fresh interpreter, where ``sys.modules``
shows exactly what an import pulled in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

RUNTIME_MODULES = (
    "guard.cli.main",
    "guard.stream.runner",
    "guard.canary.service",
    "guard.review.resolve",
    "guard.cli.topics",
    "guard.cli.acls",
    "guard.subscriber.follow",
)


def dev_broker_modules_after(program: str) -> list[str]:
    """The ``guard.devbroker`` modules loaded once ``program`` ran in a fresh interpreter."""
    probe = "import sys\nprint(sorted(m for m in sys.modules if m.startswith('guard.devbroker')))"
    result = subprocess.run(
        [sys.executable, "-c", f"{program}\n{probe}"], capture_output=True, text=True, check=True
    )
    loaded: list[str] = ast.literal_eval(result.stdout.strip())
    return loaded


def test_no_deployed_command_imports_the_dev_broker() -> None:
    program = (
        "import importlib\n"
        f"for name in {RUNTIME_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "from guard.cli.main import build_parser\n"
        "build_parser()"
    )
    assert dev_broker_modules_after(program) == []


def test_the_check_would_see_an_import_of_the_dev_broker() -> None:
    """The same probe reports the dev broker once something does import it."""
    assert "guard.devbroker.broker" in dev_broker_modules_after("import guard.cli.demo")


def test_only_the_command_line_imports_guard_cli() -> None:
    """The CLI sits on top: services (the worker, the canary, the subscriber) share
    code through the packages below it, never through a command's module."""
    root = Path(__file__).resolve().parents[2] / "guard"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.is_relative_to(root / "cli") or path == root / "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            where = path.relative_to(root)
            offenders += [f"{where}: {name}" for name in names if name.startswith("guard.cli")]
    assert offenders == []
