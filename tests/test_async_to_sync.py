"""The sync runtime is generated from the async one, and the committed twins are current."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "async_to_sync.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("async_to_sync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_committed_twins_are_current(tool: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """``scripts/async_to_sync.py --check`` passes: nobody edited a generated file by hand."""
    assert tool.main(["--check"]) == 0, capsys.readouterr().err


def test_twins_say_they_are_generated(tool: ModuleType) -> None:
    """Every sync twin starts with the DO NOT CHANGE header naming its source."""
    for source, target in tool.MODULES.items():
        text = (SCRIPT.parent.parent / target).read_text()
        assert text.startswith(tool.header(source)), target


def test_fences_keep_the_else_branch(tool: ModuleType) -> None:
    """``if True:  # ASYNC`` blocks are dropped; their else branch is kept, dedented."""
    source = (
        "async def f():\n"
        "    if True:  # ASYNC\n"
        "        await asyncio.sleep(1)\n"
        "\n"
        "    else:\n"
        "        time.sleep(1)\n"
        "    if True:  # ASYNC\n"
        "        only_async()\n"
        "    return 1\n"
    )
    assert tool.convert(source) == "def f():\n    time.sleep(1)\n    return 1\n"


def test_names_and_shapes(tool: ModuleType) -> None:
    """Names follow the table and the ``_async`` suffix rule; typing forms change shape."""
    source = (
        "from codex_db import users_async\n"
        "async def g(db: AsyncDBTX) -> AsyncGenerator[T, None]:\n"
        "    async with adb_ws.transaction() as tx:\n"
        "        async for row in tx.stream(q, (), make):\n"
        "            yield await users_async.get_user(tx, id=row)\n"
        "work: Callable[[AsyncTransaction], Awaitable[list[T]]]\n"
    )
    assert tool.convert(source) == (
        "from codex_db import users\n"
        "def g(db: DBTX) -> Generator[T, None, None]:\n"
        "    with db_ws.transaction() as tx:\n"
        "        for row in tx.stream(q, (), make):\n"
        "            yield users.get_user(tx, id=row)\n"
        "work: Callable[[Transaction], list[T]]\n"
    )
