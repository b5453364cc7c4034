"""A stage notices holes in a partition's offsets and asks for them again (cdi.stream.delivery_order)."""

from __future__ import annotations

from cdi.stream.delivery_order import APPLY, DROP, LOST, REFILLED, SEEK, DeliveryOrder


def verdicts(order: DeliveryOrder, offsets: list[int], partition: int = 0) -> list[str]:
    return [order.check(partition, offset) for offset in offsets]


def test_records_in_order_are_applied():
    assert verdicts(DeliveryOrder(), [5, 6, 7]) == [APPLY, APPLY, APPLY]


def test_a_hole_is_sought_and_what_comes_before_the_redelivery_is_dropped():
    """As seen: 179 then 182 on one partition. 180 is asked for again; 183 and 184, already queued,
    come again after the seek; from 180 on everything is applied (182 twice: the stage drops the
    second copy by event id)."""
    order = DeliveryOrder()
    assert verdicts(order, [178, 179, 182]) == [APPLY, APPLY, SEEK]
    assert order.target(0) == 180
    assert verdicts(order, [183, 184, 180, 181, 182, 183]) == [DROP, DROP, REFILLED, APPLY, APPLY, APPLY]


def test_redeliveries_are_applied_and_do_not_move_the_expected_offset():
    """At start-up Faust hands some records twice; those are older than expected, not holes."""
    order = DeliveryOrder()
    assert verdicts(order, [10, 11, 12, 10, 11, 12, 13]) == [APPLY] * 7


def test_partitions_are_independent():
    order = DeliveryOrder()
    assert order.check(0, 1) == APPLY
    assert order.check(1, 50) == APPLY
    assert order.check(0, 3) == SEEK
    assert order.check(1, 51) == APPLY


def test_offsets_without_records_end_the_wait_at_the_first_record_redelivered():
    """An input topic written by a transactional producer has offsets holding commit markers, not
    records: after the seek the re-delivery starts at the next real record, and nothing is lost."""
    order = DeliveryOrder()
    assert verdicts(order, [10, 12, 13, 12, 13, 14]) == [APPLY, SEEK, DROP, REFILLED, APPLY, APPLY]


def test_a_hole_no_seek_can_fill_is_given_up_and_reported():
    """Every record from the hole on deleted by retention meanwhile: after ``patience`` dropped
    records the stage goes on."""
    order = DeliveryOrder(patience=3)
    assert verdicts(order, [1, 5, 6, 7, 8, 9, 10]) == [APPLY, SEEK, DROP, DROP, DROP, LOST, APPLY]


def test_a_rebalance_forgets_every_partition():
    order = DeliveryOrder()
    verdicts(order, [1, 5])
    order.reset()
    assert order.check(0, 900) == APPLY
