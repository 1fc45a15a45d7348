"""The README's emulator examples run as written: the docs cannot drift from the code."""

from __future__ import annotations

import inspect
import re
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
