"""What a peer or a web page can make the servers do: origins, offer rates, call limits, DTLS
on every peer connection, and no code execution from anything received."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from mirage_stream.live.server import ReceiverServerConfig, serve
from mirage_stream.live.signaling import OfferRateLimit
from mirage_stream.live.uplink import Uplink, UplinkConfig

ROOT = Path(__file__).resolve().parents[1]


async def _post(url: str, body: dict, token: str | None = "t", origin: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if origin:
        headers["Origin"] = origin
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=body, headers=headers) as reply,
    ):
        return reply.status


def test_other_sites_cannot_drive_the_receiver():
    async def scenario():
        server, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        base = f"http://127.0.0.1:{port}"
        try:
            offer = {"sdp": "v=0", "type": "offer"}
            foreign = await _post(f"{base}/offer", offer, origin="http://evil.example")
            foreign_shown = await _post(
                f"{base}/shown", {"mark": 0, "shown_at": 1.0}, origin="http://evil.example"
            )
            own = await _post(f"{base}/shown", {"mark": 0, "shown_at": 1.0}, origin=base)
        finally:
            await runner.cleanup()
        return foreign, foreign_shown, own, server.peer_connections_created

    foreign, foreign_shown, own, created = asyncio.run(scenario())
    assert (foreign, foreign_shown) == (403, 403)
    assert own == 200  # the page's own origin passes
    assert created == 0


def test_offers_are_rate_limited_per_client():
    async def scenario():
        _, runner, port = await serve(ReceiverServerConfig(port=0, token="t"))
        try:
            offer = {"sdp": "v=0", "type": "offer"}  # well formed, refused by the SDP parser
            return [await _post(f"http://127.0.0.1:{port}/offer", offer) for _ in range(6)]
        finally:
            await runner.cleanup()

    statuses = asyncio.run(scenario())
    assert statuses[:4] == [400] * 4  # the burst: each offer is read and rejected
    assert statuses[4:] == [429, 429]


def test_token_bucket_refills_at_its_rate():
    limit = OfferRateLimit(per_s=2.0, burst=2)
    assert [limit.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert limit.allow("b", 0.0)  # another client has its own bucket
    assert not limit.allow("a", 0.2) and limit.allow("a", 0.6)


def test_calls_beyond_the_limit_are_refused_and_links_are_dtls():
    async def scenario():
        server, runner, port = await serve(ReceiverServerConfig(port=0, token="t", max_calls=1))
        url = f"http://127.0.0.1:{port}"
        first = Uplink(UplinkConfig(url, "t"), feedback=None)  # type: ignore[arg-type]
        second = Uplink(UplinkConfig(url, "t"), feedback=None)  # type: ignore[arg-type]
        try:
            await first.connect()
            pc = first._pc
            assert pc is not None
            dtls = pc.sctp.transport
            states = (dtls.state, dtls.transport.state)
            answer = pc.remoteDescription.sdp
            with pytest.raises(ConnectionError, match="503"):
                await second.connect()
        finally:
            await first.close()
            await second.close()
            await runner.cleanup()
        return states, answer, server.peer_connections_created

    (dtls_state, ice_state), answer, created = asyncio.run(scenario())
    # The data channels run over SCTP inside DTLS, keyed to the fingerprint in the signed-off
    # answer: a connected DTLS transport means the handshake checked it.
    assert dtls_state == "connected" and ice_state == "completed"
    assert re.search(r"a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}", answer)
    assert created == 1  # the refused call never got a peer connection


def test_nothing_received_is_unpickled_or_evaluated():
    # torch's module.eval() (inference mode) is not Python's eval.
    pattern = re.compile(
        r"^\s*(import pickle|from pickle)|pickle\.loads?\(|(?<![.\w])(eval|exec)\(", re.M
    )
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("mirage_stream", "channel_sim")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text())
    ]
    assert offenders == []
