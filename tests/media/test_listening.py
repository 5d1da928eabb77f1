"""Admission to the stage's WebRTC endpoint, listener tokens, blocking reload, replay."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import av
import httpx
import m3u8
import numpy as np
import pytest
import websockets

from salon.bots.analysis import tone_strength
from salon.bots.listener import HlsListener
from salon.bots.playlist import Playlist
from salon.bots.speaker import WhipRefused, WhipSpeaker
from salon.bots.tracks import PcmTrack, tone
from tests.harness import Person, Server, client, problem
from tests.integration.ticketing import buy_and_pay, seller, ticketed_space

OFFER_HEADERS = {"Content-Type": "application/sdp"}


async def _token(person: Person) -> str:
    return str((await person.ok("POST", "/api/me/tokens", json={"name": "bot"}))["token"])


async def _access(person: Person, sid: str) -> dict[str, Any]:
    access: dict[str, Any] = await person.ok("GET", f"/api/spaces/{sid}/listen")
    return access


async def test_only_stage_members_may_open_a_speaking_connection(server: Server) -> None:
    host = await server.person("host")
    listener = await server.person("listener")
    sid = (await host.create_space("Gate"))["id"]
    await listener.join(sid)
    whip = f"/api/spaces/{sid}/whip"
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        response = await anonymous.post(whip, content="v=0", headers=OFFER_HEADERS)
        assert response.status_code == 401
    await listener.call("POST", whip, content="v=0", headers=OFFER_HEADERS, status=403)
    await host.call("POST", whip, content="v=0", headers={"Content-Type": "text/plain"}, status=415)
    bad = await host.call("POST", whip, content="not sdp", headers=OFFER_HEADERS, status=422)
    assert "SDP" in bad.json()["detail"]
    # A real offer from someone who is not on the stage is still refused.
    speaker = WhipSpeaker(server.url, sid, await _token(listener), PcmTrack(tone(440, 1)))
    with pytest.raises(WhipRefused) as refused:
        await speaker.connect()
    assert refused.value.status == 403
    await host.ok("POST", f"/api/spaces/{sid}/end")
    await host.call("POST", whip, content="v=0", headers=OFFER_HEADERS, status=409)


async def test_a_free_spaces_audio_is_public_and_the_same_for_everyone(server: Server) -> None:
    host = await server.person("host")
    removed = await server.person("removed")
    sid = (await host.create_space("Public"))["id"]
    access = await _access(host, sid)
    assert access == {
        "space_id": sid,
        "playlist_url": f"/api/spaces/{sid}/hls/live.m3u8",
        "credential": None,
        "expires_in": None,
        "replay": False,
        "gap_seconds": 0.0,
    }
    url = access["playlist_url"]
    # Removal takes away the stage, events and presence of a free space, not its sound.
    await removed.join(sid)
    await host.ok("POST", f"/api/spaces/{sid}/participants/{removed.id}/remove")
    assert (await _access(removed, sid))["playlist_url"] == url
    async with client(server) as anonymous:
        first = Playlist.parse((await anonymous.get(url)).text)
        last = first.parts[-1] if first.parts else None
        msn, part = (last.msn, last.index + 1) if last else (first.media_sequence, 0)
        query = {"_HLS_msn": msn, "_HLS_part": part}
        # Two people asking for the same moment get the same bytes, naming no one.
        answers = await asyncio.gather(
            anonymous.get(url, params=query),
            host.call("GET", url, params=query),
            removed.call("GET", url, params=query),
        )
        assert all(a.status_code == 200 for a in answers)
        assert len({a.content for a in answers}) == 1
        text = answers[0].text
        assert "?" not in text, "playlist URIs carry no query a cache would have to key"
        parsed = m3u8.loads(text)
        uris = [parsed.segment_map[0].uri] + [p.uri for p in parsed.segments[-1].parts]
        for uri in uris:
            media = await anonymous.get(f"/api/spaces/{sid}/hls/{uri}")
            assert media.status_code == 200
            assert media.headers["access-control-allow-origin"] == "*"


async def test_a_ticketed_spaces_audio_opens_only_with_a_fresh_credential(
    server: Server,
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    holder = await server.person("holder")
    sid = (await ticketed_space(host))["id"]
    await buy_and_pay(holder, sid)
    await host.ok("POST", f"/api/spaces/{sid}/start")
    access = await _access(holder, sid)
    credential = access["credential"]
    assert access["expires_in"] == server.settings.audio_credential_seconds
    assert holder.handle not in credential  # the unit tests show the listener tag is opaque
    base = f"/api/spaces/{sid}/hls"
    await holder.call("GET", f"{base}/{credential}/live.m3u8", status=200)
    await holder.call("GET", f"{base}/{credential}/init.mp4", status=200)
    # The plain path of a ticketed space is closed, with CORS so a player can read why.
    plain = problem(await holder.call("GET", f"{base}/live.m3u8"), 403)
    assert "ticketed" in plain["detail"]
    refused = await holder.call("GET", f"{base}/init.mp4")
    assert refused.headers["access-control-allow-origin"] == "*"
    assert refused.headers["cache-control"] == "no-store"
    expires, listener, sig = credential.split(".")
    for forged in (
        f"{int(expires) + 60}.{listener}.{sig}",  # a longer life
        f"{expires}.{'A' * 12}.{sig}",  # someone else
        f"{expires}.{listener}.{'A' * 22}",  # made up
    ):
        detail = problem(await holder.call("GET", f"{base}/{forged}/live.m3u8"), 403)["detail"]
        assert "not valid" in detail
    # Past its lifetime the credential is refused; a new one comes from /listen.
    server.clock.advance(server.settings.audio_credential_seconds + 1)
    expired = problem(await holder.call("GET", f"{base}/{credential}/init.mp4"), 403)
    assert "expired" in expired["detail"]
    renewed = (await _access(holder, sid))["credential"]
    await holder.call("GET", f"{base}/{renewed}/init.mp4", status=200)
    # Removed: no new credential, so the audio closes when the current one runs out.
    await holder.join(sid)
    await host.ok("POST", f"/api/spaces/{sid}/participants/{holder.id}/remove")
    problem(await holder.call("GET", f"/api/spaces/{sid}/listen"), 403)
    server.clock.advance(server.settings.audio_credential_seconds + 1)
    problem(await holder.call("GET", f"{base}/{renewed}/live.m3u8"), 403)


async def test_a_ban_closes_a_ticketed_spaces_audio_within_the_credentials_life(
    server: Server,
) -> None:
    admin = await server.person("admin")
    host = await seller(server, admin)
    holder = await server.person("holder")
    sid = (await ticketed_space(host))["id"]
    await buy_and_pay(holder, sid)
    await host.ok("POST", f"/api/spaces/{sid}/start")
    credential = (await _access(holder, sid))["credential"]
    playlist = f"/api/spaces/{sid}/hls/{credential}/live.m3u8"
    await holder.call("GET", playlist, status=200)
    await admin.ok("PATCH", f"/api/admin/users/{holder.handle}", json={"banned": True})
    # No renewal (the session is gone with the ban), and the credential held runs out.
    problem(await holder.call("GET", f"/api/spaces/{sid}/listen"), 401)
    server.clock.advance(server.settings.audio_credential_seconds + 1)
    assert "expired" in problem(await holder.call("GET", playlist), 403)["detail"]


async def test_a_ban_ends_the_persons_live_connections_at_once(server: Server) -> None:
    admin = await server.person("admin")
    host = await server.person("host")
    speaker = await server.person("speaker")
    sid = (await host.create_space("Banned mid-sentence"))["id"]
    await speaker.join(sid)
    await speaker.ok("POST", f"/api/spaces/{sid}/hand")
    await host.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/approve")
    bot = WhipSpeaker(server.url, sid, await _token(speaker), PcmTrack(tone(500, 1)))
    async with speaker.events(sid) as stream, bot, host.events(sid) as hosts:
        # Connected and heard (a connection still being set up would not notice a hang-up).
        await speaker.ok("POST", f"/api/spaces/{sid}/participants/{speaker.id}/unmute")
        await hosts.until(
            lambda e: e["type"] == "speaking" and speaker.id in e["user_ids"], within=10
        )
        await admin.ok("PATCH", f"/api/admin/users/{speaker.handle}", json={"banned": True})
        # Their WHIP connection hangs up and their event stream closes: signed out.
        async with asyncio.timeout(5):
            await bot.closed.wait()
        left = await stream.next("participant_left")
        assert left == {**left, "user_id": speaker.id, "reason": "banned"}
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await stream.next()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
        # Everyone else sees them leave the stage.
        gone = await hosts.next("participant_left")
        assert gone["user_id"] == speaker.id
    people = await host.ok("GET", f"/api/spaces/{sid}/participants")
    assert speaker.id not in [p["user"]["id"] for p in people]


async def test_banning_a_host_ends_their_live_space(server: Server) -> None:
    admin = await server.person("admin")
    host = await server.person("host")
    sid = (await host.create_space("Short-lived"))["id"]
    await admin.ok("PATCH", f"/api/admin/users/{host.handle}", json={"banned": True})
    space = await admin.ok("GET", f"/api/spaces/{sid}")
    assert space["state"] == "ended"


async def test_blocking_reload_delivers_each_new_part_as_it_is_published(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Blocking"))["id"]
    url = (await _access(host, sid))["playlist_url"]
    first = Playlist.parse((await host.call("GET", url)).text)
    last = first.parts[-1] if first.parts else None
    msn, part = (last.msn, last.index + 1) if last else (first.media_sequence, 0)
    seen = []
    for _ in range(8):
        response = await host.call(
            "GET", url, params={"_HLS_msn": msn, "_HLS_part": part}, status=200
        )
        playlist = Playlist.parse(response.text)
        parsed = m3u8.loads(response.text)
        assert parsed.server_control.can_block_reload == "YES"
        newest = playlist.parts[-1]
        assert (newest.msn, newest.index) >= (msn, part) or newest.msn > msn
        seen.append((newest.msn, newest.index))
        msn, part = newest.msn, newest.index + 1
    assert seen == sorted(set(seen)), "every answer brought a newer part"
    # A part too far ahead is refused, as is a part number without a sequence number.
    await host.call("GET", url, params={"_HLS_msn": msn + 10}, status=400)
    await host.call("GET", url, params={"_HLS_part": 1}, status=400)


async def test_the_hinted_part_is_held_until_published(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Hint"))["id"]
    text = (await host.call("GET", (await _access(host, sid))["playlist_url"])).text
    hint = m3u8.loads(text).preload_hint
    assert hint is not None
    assert hint.hint_type == "PART"
    part = await host.call("GET", f"/api/spaces/{sid}/hls/{hint.uri}")
    assert part.status_code == 200
    assert part.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_speaking_events_follow_who_is_talking(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Who speaks"))["id"]
    bot = WhipSpeaker(server.url, sid, await _token(host), PcmTrack(tone(300, 1)))
    async with host.events(sid) as stream, bot:
        speaking = await stream.until(
            lambda e: e["type"] == "speaking" and host.id in e["user_ids"], within=10
        )
        assert speaking["user_ids"] == [host.id]
        # Someone arriving while the host keeps talking sees them speaking at once: the
        # snapshot and the audience view say who speaks now, not only changes.
        latecomer = await server.person("latecomer")
        async with latecomer.events(sid) as late:
            assert late.snapshot["speaking"] == [host.id]
        async with client(server) as anonymous:
            view = await anonymous.get(f"/api/spaces/{sid}/hls/audience.json")
            assert view.json()["speaking"] == [host.id]


async def test_a_reconnect_replaces_the_old_connection(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Flaky network"))["id"]
    token = await _token(host)
    first = WhipSpeaker(server.url, sid, token, PcmTrack(tone(300, 1)))
    await first.connect()
    async with WhipSpeaker(server.url, sid, token, PcmTrack(tone(500, 1))) as second:
        async with asyncio.timeout(5):
            await first.closed.wait()
        async with asyncio.timeout(5):
            while not second.heard:  # noqa: ASYNC110 - the bot exposes no event for audio
                await asyncio.sleep(0.05)
    await first.hang_up()


async def test_a_recorded_space_replays_as_vod_after_it_ends(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("On the record", recording=True))["id"]
    async with host.events(sid):  # keep the host connected
        async with WhipSpeaker(server.url, sid, await _token(host), PcmTrack(tone(440, 1))):
            await host.ok("POST", f"/api/spaces/{sid}/participants/{host.id}/unmute")
            async with HlsListener(server.url, sid, headers={"Cookie": host.cookie_header}) as hls:
                await hls.listen(2.0)
        await host.ok("POST", f"/api/spaces/{sid}/end")
    access = await _access(host, sid)
    assert access["replay"] is True
    assert access["playlist_url"] == f"/api/spaces/{sid}/recording/index.m3u8"
    listing = await host.call("GET", access["playlist_url"], status=200)
    # The host may delete it at any moment: a cache keeps it only by asking first.
    assert listing.headers["cache-control"] == "public, no-cache"
    again = await host.call(
        "GET", access["playlist_url"], headers={"If-None-Match": listing.headers["etag"]}
    )
    assert again.status_code == 304
    text = listing.text
    vod = m3u8.loads(text)
    assert vod.is_endlist
    assert vod.playlist_type == "vod"
    assert vod.segments[0].current_program_date_time is not None
    base = f"/api/spaces/{sid}/recording/"
    init_response = await host.call("GET", base + vod.segment_map[0].uri, status=200)
    assert init_response.headers["cache-control"] == "public, no-cache"
    days = server.settings.recording_days
    server.clock.advance(days * 86400 + 1)
    problem(await host.call("GET", base + vod.segment_map[0].uri), 410)
    server.clock.advance(-(days * 86400 + 1))
    init = init_response.content
    media = b"".join(
        [(await host.call("GET", base + s.uri, status=200)).content for s in vod.segments]
    )
    with av.open(io.BytesIO(init + media), mode="r") as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    pcm = (audio * 32767).astype(np.int16)
    assert len(pcm) / 48_000 >= 2.0
    assert tone_strength(pcm, 440) > 0.05


async def test_the_live_playlist_ends_with_the_space(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("The end"))["id"]
    url = f"/api/spaces/{sid}/hls/live.m3u8"
    assert not m3u8.loads((await host.call("GET", url)).text).is_endlist
    await host.ok("POST", f"/api/spaces/{sid}/end")
    ended = m3u8.loads((await host.call("GET", url, status=200)).text)
    assert ended.is_endlist
    assert ended.preload_hint is None


async def test_cache_headers_suit_a_cdn(server: Server) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Cacheable"))["id"]
    base = f"/api/spaces/{sid}/hls"
    plain = await host.call("GET", f"{base}/live.m3u8", status=200)
    assert plain.headers["cache-control"] == "no-cache"
    assert plain.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert plain.headers["access-control-allow-origin"] == "*"
    first = Playlist.parse(plain.text).media_sequence
    blocked = await host.call(
        "GET",
        f"{base}/live.m3u8",
        params={"_HLS_msn": first, "_HLS_part": 0},
        status=200,
    )
    assert blocked.headers["cache-control"] == "public, max-age=6"
    init = await host.call("GET", f"{base}/init.mp4", status=200)
    assert init.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_after_a_restart_the_stream_continues_without_reusing_a_name(
    server: Server,
) -> None:
    host = await server.person("host")
    sid = (await host.create_space("Restarted"))["id"]
    url = (await _access(host, sid))["playlist_url"]

    async def names(base: str, at: int) -> tuple[m3u8.M3U8, set[str]]:
        async with client(server) as anonymous:
            text = (await anonymous.get(base + url, params={"_HLS_msn": at})).text
        parsed = m3u8.loads(text)
        uris = {p.uri for s in parsed.segments for p in s.parts}
        return parsed, uris | {s.uri for s in parsed.segments}

    async with client(server) as anonymous:
        first = m3u8.loads((await anonymous.get(url)).text)
    before, old = await names("", first.media_sequence + 2)
    assert not any(s.discontinuity for s in before.segments)
    last_msn = before.media_sequence + len(before.segments)
    # Stop the node and start another on the same database: a restart.
    await server.stop()
    async with Server(server.settings, server.clock) as again:
        server.port = again.port  # the clients above keep using server.url
        # A player following the old run asks for its next part: it gets the new run at once.
        async with httpx.AsyncClient(base_url=again.url) as player:
            resumed = await player.get(url, params={"_HLS_msn": last_msn, "_HLS_part": 0})
        assert resumed.status_code == 200
        after = m3u8.loads(resumed.text)
        assert after.media_sequence > last_msn
        later, new = await names("", after.media_sequence + 1)
        assert later.segments[0].discontinuity
        assert not old & new, "no media name repeats within the space's life"
        # A player joining now decodes the new run from its own init.
        async with httpx.AsyncClient(base_url=again.url) as player:
            init = (await player.get(f"/api/spaces/{sid}/hls/init.mp4")).content
            part = await player.get(f"/api/spaces/{sid}/hls/{later.segments[0].parts[0].uri}")
        with av.open(io.BytesIO(init + part.content), mode="r") as container:
            frames = list(container.decode(audio=0))
        assert frames
        assert frames[0].pts == later.media_sequence * 5 * 9 * 1024
