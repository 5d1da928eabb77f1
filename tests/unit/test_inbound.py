"""A speaker's packets decoded on arrival: order, losses filled by FEC or PLC, long gaps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salon.bots.analysis import tone_strength
from salon.bots.tracks import tone
from salon.media.inbound import InboundAudio
from salon.media.opus import OpusEncoder
from salon.media.pcm import FRAME_SAMPLES, Pcm


@dataclass
class Packet:
    sequence_number: int
    timestamp: int
    payload: bytes


def _packets(count: int, first_sequence: int = 100) -> list[Packet]:
    encoder = OpusEncoder(bitrate=32_000, fec=True, expected_loss_percent=20)
    pcm = tone(300, count * FRAME_SAMPLES / 48_000, level=0.2)
    return [
        Packet(
            (first_sequence + i) & 0xFFFF,
            (7 + i * FRAME_SAMPLES) & 0xFFFFFFFF,
            encoder.encode(pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]),
        )
        for i in range(count)
    ]


def _run(packets: list[Packet]) -> tuple[InboundAudio, list[Pcm]]:
    out: list[Pcm] = []
    inbound = InboundAudio(out.append)
    for packet in packets:
        inbound.receive(packet)
    return inbound, out


def test_packets_in_order_are_decoded_one_frame_each() -> None:
    inbound, out = _run(_packets(20))
    assert [len(pcm) for pcm in out] == [FRAME_SAMPLES] * 20
    assert inbound.recovered == 0


def test_a_lost_packet_is_filled_from_the_next_one() -> None:
    packets = _packets(30)
    inbound, out = _run(packets[:15] + packets[16:])
    assert inbound.recovered == 1
    assert len(out) == 30  # the timeline stays whole
    assert tone_strength(out[15], 300) > 0.5  # the tone carries on through the loss


def test_a_few_lost_packets_are_concealed_then_recovered() -> None:
    packets = _packets(30)
    inbound, out = _run(packets[:10] + packets[13:])
    assert inbound.recovered == 3
    assert len(out) == 30


def test_a_long_gap_is_left_as_silence_not_concealed() -> None:
    packets = _packets(30)
    inbound, out = _run(packets[:10] + packets[20:])
    assert inbound.recovered == 0
    assert len(out) == 20


def test_a_reordered_packet_is_decoded_in_its_place_and_a_repeated_one_dropped() -> None:
    packets = _packets(10)
    inbound, out = _run([*packets[:4], packets[5], packets[4], packets[5], *packets[6:]])
    assert inbound.late == 1  # the second 5
    assert inbound.recovered == 0  # 4 was not lost, only late: decoded, not concealed
    assert len(out) == 10
    _, in_order = _run(packets)
    for got, want in zip(out, in_order, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_gap_is_held_until_enough_packets_came_after_it() -> None:
    from salon.media.inbound import REORDER_PACKETS

    packets = _packets(10)
    inbound, out = _run([*packets[:4], *packets[5 : 5 + REORDER_PACKETS - 1]])
    assert len(out) == 4  # still waiting for 4
    inbound.receive(packets[5 + REORDER_PACKETS - 1])
    assert len(out) == 5 + REORDER_PACKETS  # 4 recovered (FEC), then the held ones
    assert inbound.recovered == 1
    inbound.receive(packets[4])  # too late now
    assert inbound.late == 1


def test_sequence_numbers_wrap_around() -> None:
    inbound, out = _run(_packets(10, first_sequence=65_530))
    assert len(out) == 10
    assert inbound.late == inbound.recovered == 0
    assert np.all([len(pcm) == FRAME_SAMPLES for pcm in out])
