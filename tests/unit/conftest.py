"""What the unit tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def event_loop_for_outputs() -> Iterator[None]:
    """A ``pulumi.Output`` made outside a Pulumi program needs a current event loop. Python gives the main
    thread one implicitly only until something (``asyncio.run`` in another test) has set one: so each test gets
    its own, whatever ran before it."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()
