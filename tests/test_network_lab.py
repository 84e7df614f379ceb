"""Calls between two hosts behind two NATs, built inside the test machine (needs root, iproute2,
iptables and coturn; `.ci/run` installs them). Only figures that hold on a busy machine are
asserted: which path ICE took and that every segment sent arrived; latency is `bench network`'s.
"""

import subprocess

import pytest

from mirage_stream.bench.netlab import LabLinks, NetworkLab, lab_unavailable
from mirage_stream.bench.network import NetworkBenchConfig, bench_network

pytestmark = pytest.mark.skipif(lab_unavailable() is not None, reason=str(lab_unavailable()))


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_the_lab_removes_what_it_made_also_when_the_test_fails():
    with pytest.raises(RuntimeError, match="on purpose"), NetworkLab(LabLinks()) as lab:
        names = list(lab.names.values())
        assert all(name in _namespaces() for name in names)
        raise RuntimeError("on purpose")
    assert not any(name in _namespaces() for name in names)
    assert not lab.folder.exists()


def test_a_call_relayed_through_turn_across_two_nats_on_the_mobile_profile():
    result = bench_network(NetworkBenchConfig(profile="mobile", relay=True, seconds=8))
    assert result.candidate_type == "relay"
    assert result.segments_sent >= 3
    assert result.segments_received == result.segments_sent  # captions travel reliably
    assert result.segments_played >= 1
    assert result.damaged_keyframes_decoded == result.keyframes_damaged
    assert result.wire_bytes_per_segment is not None and result.wire_bytes_per_segment > 0
    assert result.rtt_ms is not None and result.rtt_ms >= 100 * 0.9  # the profile's 100 ms


def test_a_direct_call_finds_its_way_through_both_nats_with_stun():
    result = bench_network(NetworkBenchConfig(profile="broadband", seconds=6))
    # Host candidates cannot reach across the two private networks: the path is
    # server-reflexive (hole punched through both NATs) or, failing that, relayed.
    assert result.candidate_type in ("srflx", "prflx", "relay")
    assert result.segments_received == result.segments_sent >= 2
