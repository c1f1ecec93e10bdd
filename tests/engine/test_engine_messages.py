"""Messages between instances: A throws (intermediate throw event), B catches with correlation,
B answers with a send task; delivery goes through outgoing_messages() / deliver_message()."""

from __future__ import annotations

import pytest

from service.engine import MessageNotAccepted


@pytest.fixture
def buyer(load_process):
    return load_process("msg_buyer.bpmn")


@pytest.fixture
def seller(load_process):
    return load_process("msg_seller.bpmn")


def _place_order(case, order_id=42):
    (task,) = case.ready_human_tasks()
    assert task.name == "place_order"
    case.complete(task.id, {"order_id": order_id, "item": "flags", "quantity": 3})


def _open_order(case, order_id=42):
    (task,) = case.ready_human_tasks()
    assert task.name == "open_order"
    case.complete(task.id, {"order_id": order_id})


def test_throw_event_produces_an_outgoing_message_with_payload_and_correlation(buyer, start_case, reload):
    case_a = start_case(buyer)
    assert case_a.outgoing_messages() == []

    _place_order(case_a)
    case_a = reload(buyer, case_a)

    (message,) = case_a.outgoing_messages()
    assert message.name == "order_placed"
    assert message.payload == {"order_id": 42, "item": "flags", "quantity": 3}
    assert message.correlations == {"order": {"order_id": 42}}
    assert case_a.waiting_messages() == {"order_confirmed"}
    assert case_a.ready_human_tasks() == []


def test_outgoing_messages_are_drained_by_reading_them(buyer, start_case, engine):
    """Reading outgoing_messages() removes them from the case; a state saved *before* reading still
    carries them (so a caller must read them before saving, or they are sent again next step)."""
    case_a = start_case(buyer)
    _place_order(case_a, order_id=7)
    saved_before_reading = case_a.state_json()

    assert len(case_a.outgoing_messages()) == 1
    assert case_a.outgoing_messages() == []
    assert engine.restore(buyer, case_a.state_json()).outgoing_messages() == []
    assert len(engine.restore(buyer, saved_before_reading).outgoing_messages()) == 1


def test_round_trip_between_two_instances(buyer, seller, start_case, reload):
    case_a = start_case(buyer)
    case_b = start_case(seller)
    _open_order(case_b)
    case_b = reload(seller, case_b)
    assert case_b.waiting_messages() == {"order_placed"}

    _place_order(case_a)
    (order,) = case_a.outgoing_messages()
    case_b.deliver_message(order.name, order.payload, order.correlations)
    case_b = reload(seller, case_b)

    (pack,) = case_b.ready_human_tasks()
    assert pack.name == "pack"
    assert pack.data["order"] == {"order_id": 42, "item": "flags", "quantity": 3}  # messageVariable
    assert case_b.waiting_messages() == set()

    case_b.complete(pack.id, {"packer": "chen"})
    assert case_b.completed
    (confirmation,) = case_b.outgoing_messages()  # from the send task
    assert confirmation.name == "order_confirmed"
    assert confirmation.payload == {"order_id": 42, "packed_by": "chen"}
    assert confirmation.correlations == {"order": {"order_id": 42}}

    case_a = reload(buyer, case_a)
    case_a.deliver_message(confirmation.name, confirmation.payload, confirmation.correlations)
    case_a = reload(buyer, case_a)
    assert case_a.completed
    assert case_a.data["confirmation"] == {"order_id": 42, "packed_by": "chen"}


def test_wrong_correlation_is_refused_once_the_receiver_is_correlated(buyer, seller, start_case, reload):
    case_b = start_case(seller)
    _open_order(case_b, order_id=42)
    case_b = reload(seller, case_b)

    with pytest.raises(MessageNotAccepted):
        case_b.deliver_message("order_placed", {"order_id": 43, "item": "x", "quantity": 1}, {"order": {"order_id": 43}})
    with pytest.raises(MessageNotAccepted):  # from outside: the key is read from the payload, and differs
        case_b.deliver_message("order_placed", {"order_id": 44, "item": "x", "quantity": 1}, None)
    with pytest.raises(MessageNotAccepted):  # a payload without the key cannot match
        case_b.deliver_message("order_placed", {"item": "x", "quantity": 1}, None)

    case_b = reload(seller, case_b)
    assert case_b.waiting_messages() == {"order_placed"}  # still waiting, nothing consumed
    assert case_b.ready_human_tasks() == []

    # correlations computed from an outside payload match like the sender's own
    case_b.deliver_message("order_placed", {"order_id": 42, "item": "x", "quantity": 1}, None)
    assert [t.name for t in case_b.ready_human_tasks()] == ["pack"]


def test_the_sender_refuses_a_confirmation_for_another_order(buyer, start_case, reload):
    case_a = start_case(buyer)
    _place_order(case_a, order_id=42)  # the throw sets the sender's own correlation
    case_a = reload(buyer, case_a)

    with pytest.raises(MessageNotAccepted):
        case_a.deliver_message("order_confirmed", {"order_id": 99}, {"order": {"order_id": 99}})
    assert not case_a.completed
    assert case_a.waiting_messages() == {"order_confirmed"}


def test_a_message_nobody_waits_for_is_refused(buyer, seller, start_case):
    case_b = start_case(seller)  # still at its first user task, not yet waiting
    assert case_b.waiting_messages() == set()
    with pytest.raises(MessageNotAccepted):
        case_b.deliver_message("order_placed", {"order_id": 42}, {"order": {"order_id": 42}})

    case_a = start_case(buyer)
    with pytest.raises(MessageNotAccepted):  # a name no event in this process catches
        case_a.deliver_message("no_such_message", {}, {})
    assert [t.name for t in case_b.ready_human_tasks()] == ["open_order"]
