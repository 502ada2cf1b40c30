"""The README's Python examples run as written, and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # examples that save files write them here
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    # A comment after print(...) states the printed values, rounded as written.
    promised = [
        line.split("#", 1)[1].split()
        for line in block.splitlines()
        if line.lstrip().startswith("print(") and "#" in line
    ]
    lines = printed.getvalue().splitlines()
    assert len(lines) >= len(promised)
    for stated, line in zip(promised, lines, strict=False):
        actual = [float(word) for word in line.split()]
        assert len(actual) == len(stated)
        for text, value in zip(stated, actual, strict=True):
            decimals = len(text.split(".")[1]) if "." in text else 0
            assert round(value, decimals) == float(text), (line, stated)
