"""ICE configuration: the URLs and credentials a user gives, what aiortc and the pages get, and
the selected path of a real loopback connection."""

import argparse
import asyncio
import re
import time

import aiohttp
import pytest
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from mirage_stream.errors import InputError
from mirage_stream.live.ice import IceConfig, IceServer, parse_ice_url, selected_path
from mirage_stream.live.server import ReceiverServerConfig, serve

SECRET = "s3cr3t-never-printed"


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    IceConfig.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    "url",
    [
        "stun:stun.example.org",
        "stun:10.0.0.1:3478",
        "stun:[2001:db8::1]:19302",
        "turn:turn.example.org:3478?transport=udp",
        "turn:10.1.2.3?transport=tcp",
        "turns:turn.example.org:5349?transport=tcp",
        "turns:turn.example.org",
    ],
)
def test_good_ice_urls_are_taken(url):
    assert parse_ice_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://turn.example.org", "expected stun:"),
        ("stun:", "expected stun:"),
        ("turn:host:70000", "not in 1..65535"),
        ("stun:host?transport=udp", "no ?transport"),
        ("turns:host?transport=udp", "TCP (TLS) only"),
        ("turn:host?transport=sctp", "expected stun:"),
    ],
)
def test_bad_ice_urls_say_what_is_wrong(url, why):
    with pytest.raises(InputError, match=re.escape(why)):
        parse_ice_url(url)


def test_a_turn_server_needs_credentials_and_relay_only_needs_turn():
    with pytest.raises(InputError, match="needs --ice-username"):
        IceConfig((IceServer("turn:10.0.0.1"),))
    with pytest.raises(InputError, match="--ice-relay-only needs a turn"):
        IceConfig((IceServer("stun:10.0.0.1"),), relay_only=True)
    with pytest.raises(InputError, match="needs --ice-username"):
        IceConfig.from_args(_args("--ice-server", "turn:10.0.0.1", "--ice-username", "u"))


def test_credentials_never_show_in_repr_errors_or_descriptions(tmp_path):
    file = tmp_path / "turn"
    file.write_text(f"alice:{SECRET}\n")
    config = IceConfig.from_args(
        _args(
            "--ice-server",
            "stun:10.0.0.1",
            "--ice-server",
            "turn:10.0.0.2",
            "--ice-credential-file",
            str(file),
        )
    )
    assert config.servers[1].username == "alice" and config.servers[1].credential == SECRET
    assert config.servers[0].credential is None  # a STUN server gets no credential
    for text in (repr(config), str(config), config.describe(), repr(config.servers[1])):
        assert SECRET not in text
    assert "turn:10.0.0.2" in config.describe()
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(InputError, match="first line is empty"):
        IceConfig.from_args(_args("--ice-server", "turn:h", "--ice-credential-file", str(empty)))
    with pytest.raises(InputError, match="No such file") as missing:
        IceConfig.from_args(_args("--ice-credential-file", str(tmp_path / "absent")))
    assert SECRET not in str(missing.value)


def test_a_password_only_file_takes_the_username_flag(tmp_path):
    file = tmp_path / "turn"
    file.write_text(SECRET + "\n")
    config = IceConfig.from_args(
        _args(
            "--ice-server",
            "turns:t.example.org",
            "--ice-username",
            "bob",
            "--ice-credential-file",
            str(file),
        )
    )
    assert (config.servers[0].username, config.servers[0].credential) == ("bob", SECRET)


def test_without_servers_aiortc_gets_none_not_its_public_default():
    configuration = IceConfig().rtc_configuration()
    # An empty list, not None: None would make aiortc ask stun.l.google.com.
    assert configuration.iceServers == []
    assert configuration.iceTransportPolicy is RTCIceTransportPolicy.ALL
    assert IceConfig().page_json() == {"iceServers": [], "iceTransportPolicy": "all"}


def test_aiortc_gets_the_first_stun_and_turn_and_the_pages_get_all():
    config = IceConfig(
        (
            IceServer("stun:a.example.org"),
            IceServer("stun:b.example.org"),
            IceServer("turn:c.example.org", "u", "p"),
            IceServer("turns:d.example.org", "u", "p"),
        ),
        relay_only=True,
    )
    configuration = config.rtc_configuration()
    assert [server.urls for server in configuration.iceServers] == [
        "stun:a.example.org",
        "turn:c.example.org",
    ]
    assert configuration.iceServers[1].username == "u"
    assert configuration.iceTransportPolicy is RTCIceTransportPolicy.RELAY
    page = config.page_json()
    assert page["iceTransportPolicy"] == "relay"
    assert [entry["urls"] for entry in page["iceServers"]] == [
        ["stun:a.example.org"],
        ["stun:b.example.org"],
        ["turn:c.example.org"],
        ["turns:d.example.org"],
    ]
    assert "credential" not in page["iceServers"][0] and page["iceServers"][2]["credential"] == "p"


def test_a_loopback_connection_reports_a_host_path_with_a_round_trip():
    async def scenario():
        offerer, answerer = IceConfig().peer_connection(), IceConfig().peer_connection()
        assert selected_path(offerer) is None  # nothing chosen yet
        channel = offerer.createDataChannel("captions")
        echoed = asyncio.Event()

        @answerer.on("datachannel")
        def on_channel(remote):
            remote.on("message", lambda message: (remote.send(message), echoed.set()))

        try:
            await offerer.setLocalDescription(await offerer.createOffer())
            await answerer.setRemoteDescription(offerer.localDescription)
            await answerer.setLocalDescription(await answerer.createAnswer())
            await offerer.setRemoteDescription(answerer.localDescription)
            deadline = time.monotonic() + 60  # a hang guard, not a speed figure
            path = None
            while time.monotonic() < deadline:
                if channel.readyState == "open":
                    channel.send(b"x" * 100)
                path = selected_path(offerer)
                if path is not None and path.rtt_ms is not None and echoed.is_set():
                    break
                await asyncio.sleep(0.1)
            return path, echoed.is_set()
        finally:
            await offerer.close()
            await answerer.close()

    path, echoed = asyncio.run(scenario())
    assert echoed
    assert path is not None and path.candidate_type == "host"
    assert path.local_type == path.remote_type == "host"
    assert path.rtt_ms is not None and path.rtt_ms >= 0
    assert set(path.as_json()) == {
        "candidate_type",
        "local_candidate",
        "remote_candidate",
        "rtt_ms",
    }


def test_the_pages_get_the_servers_ice_behind_the_token():
    config = IceConfig((IceServer("stun:10.9.9.9"), IceServer("turn:10.9.9.9", "u", SECRET)))

    async def scenario():
        _, runner, port = await serve(ReceiverServerConfig(port=0, token="t", ice=config))
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/ice") as refused:
                    assert refused.status == 401
                headers = {"Authorization": "Bearer t"}
                async with session.get(f"http://127.0.0.1:{port}/ice", headers=headers) as reply:
                    return reply.status, await reply.json()
        finally:
            await runner.cleanup()

    status, body = asyncio.run(scenario())
    assert status == 200 and body == config.page_json()
