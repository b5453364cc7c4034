"""The outbox lets state be written only once every message sent before it is acknowledged, and
holds new records back meanwhile (no broker: futures stand in for the producer's)."""

from __future__ import annotations

import asyncio

import pytest

from cdi.stream.outbox import DeliveryFailed, Outbox


def run(coro):
    return asyncio.run(coro)


def test_settled_waits_for_every_acknowledgement_and_holds_new_records_back():
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        outbox, log = Outbox(), []
        acks = [loop.create_future() for _ in range(2)]
        await outbox.enter()
        outbox.leave(acks)  # a record whose two findings are in flight

        async def flush() -> None:
            async with outbox.settled():
                log.append("state written")

        async def next_record() -> None:
            await outbox.enter()
            log.append("next record")
            outbox.leave([])

        flushing = asyncio.create_task(flush())
        await asyncio.sleep(0)
        held = asyncio.create_task(next_record())
        await asyncio.sleep(0)
        assert log == [] and outbox.in_flight == 1
        acks[0].set_result(None)
        await asyncio.sleep(0)
        assert log == []  # one acknowledgement still missing
        acks[1].set_result(None)
        await asyncio.gather(flushing, held)
        return log

    assert run(scenario()) == ["state written", "next record"]


def test_a_record_being_handled_counts_before_it_has_sent_anything():
    async def scenario() -> list[str]:
        outbox, log = Outbox(), []
        await outbox.enter()  # changed state, still awaiting the producer for its first send

        async def flush() -> None:
            async with outbox.settled():
                log.append("state written")

        flushing = asyncio.create_task(flush())
        for _ in range(3):
            await asyncio.sleep(0)
        assert log == []
        outbox.leave([])
        await flushing
        return log

    assert run(scenario()) == ["state written"]


def test_a_refused_send_fails_this_flush_and_every_later_one():
    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        outbox = Outbox()
        refused = loop.create_future()
        await outbox.enter()
        outbox.leave([refused])
        refused.set_exception(OSError("broker said no"))
        failures = 0
        for _ in range(2):
            with pytest.raises(DeliveryFailed, match="OSError"):
                async with outbox.settled():
                    pass
            failures += 1
        await outbox.enter()  # records still flow: the worker stops through its crash
        outbox.leave([])
        return failures

    assert run(scenario()) == 2
