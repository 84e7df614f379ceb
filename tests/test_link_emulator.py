"""The emulated link's schedule: loss at its rate, no reordering, the rate limit's serialisation
and its drop-tail queue. Times are the schedule's own arithmetic, never the wall clock."""

import math
import random

import pytest

from mirage_stream.bench.link_emulator import LinkDirection, LinkProfile
from mirage_stream.bench.network import PROFILES


def test_loss_matches_the_profile_within_a_binomial_tolerance():
    direction = LinkDirection(LinkProfile(loss=0.05), random.Random(1))
    n = 20_000
    lost = sum(direction.schedule(i * 0.001, 100) is None for i in range(n))
    sd = math.sqrt(n * 0.05 * 0.95)
    assert abs(lost - n * 0.05) <= 4 * sd  # two-sided, 4 standard deviations
    assert direction.counts.lost == lost and direction.counts.packets == n


def test_jitter_delays_but_never_reorders():
    direction = LinkDirection(LinkProfile(delay_s=0.05, jitter_s=0.03), random.Random(2))
    arrivals = [direction.schedule(i * 0.001, 200) for i in range(2000)]
    assert all(a is not None for a in arrivals)
    assert arrivals == sorted(arrivals)
    assert all(a - i * 0.001 >= 0.05 - 1e-12 for i, a in enumerate(arrivals))
    assert max(a - i * 0.001 for i, a in enumerate(arrivals)) <= 0.05 + 0.03 + 0.001 * 2000


def test_the_rate_limit_serialises_and_drops_when_its_queue_is_full():
    direction = LinkDirection(LinkProfile(rate_bps=1_000_000, queue_s=0.1), random.Random(3))
    # A burst of 100 packets of 1250 bytes (10 ms each at 1 Mbit/s) at t = 0.
    arrivals = [direction.schedule(0.0, 1250) for _ in range(100)]
    kept = [a for a in arrivals if a is not None]
    assert kept[:3] == pytest.approx([0.01, 0.02, 0.03])
    # The queue holds 0.1 s: packets that would wait longer are dropped (drop-tail).
    assert len(kept) == 11 and direction.counts.queue_dropped == 89
    # Once the line has drained, a packet goes at once again.
    assert direction.schedule(1.0, 1250) == pytest.approx(1.01)


def test_profiles_split_the_round_trip_and_load_the_senders_link():
    for profile in PROFILES.values():
        links = profile.links()
        one_way = links.sender_up.delay_s + links.receiver_down.delay_s
        assert 2 * one_way == pytest.approx(profile.rtt_s)
        assert links.sender_up.loss == links.sender_down.loss == profile.loss
        assert links.receiver_up.loss == 0 and links.receiver_up.rate_bps is None
    with pytest.raises(ValueError):
        LinkProfile(loss=1.0)
