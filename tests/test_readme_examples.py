"""The README's emulator examples run as written: the docs cannot drift from the code."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def emulator_examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return [block for block in blocks if "from ozoasync.testing import" in block]


def test_the_readme_has_emulator_examples() -> None:
    assert len(emulator_examples()) >= 2


@pytest.mark.parametrize("source", emulator_examples())
async def test_a_readme_emulator_example_runs(source: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(source, str(README), "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests, "each example defines a test_* coroutine"
    for test in tests:
        assert inspect.iscoroutinefunction(test)
        await test()


def test_the_readme_emulator_examples_pass_pasted_into_a_fresh_project(tmp_path: Path) -> None:
    """Pasted into a new project with pytest-asyncio in its default (strict) mode and no
    configuration of ours, the examples run and pass as they stand."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for number, source in enumerate(emulator_examples()):
        (tmp_path / f"test_pasted_{number}.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(emulator_examples())} passed" in done.stdout
