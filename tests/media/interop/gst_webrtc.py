"""A standard WebRTC client that is not aiortc: GStreamer's webrtcbin, doing WHIP or WHEP itself.

Run by Debian's ``/usr/bin/python3`` (python3-gi serves it, not the virtualenv); only the
standard library besides ``gi``. Debian 12's GStreamer has no whipsink, so the HTTP side is
here, around ``webrtcbin``:

``publish`` (WHIP, RFC 9725): a sine tone, Opus, sendonly. ``play`` (WHEP): recvonly Opus,
decoded to 48 kHz mono 16-bit and written to a WAV file. Either way: make the offer, wait for
ICE gathering to complete (or, with ``--trickle``, POST at once and send the candidates as
``application/trickle-ice-sdpfrag`` PATCHes, RFC 8840), POST it with the bearer token, apply
the 201's answer, run ``--seconds`` from the moment DTLS connects, then DELETE the session.

Every notable step is one JSON line on stdout (``{"event": "answer", "status": 201}``,
``{"event": "connection", "state": "connected"}``, ``{"event": "done"}`` ...). Any HTTP error,
a failed ICE or DTLS, a pipeline error or running out of time ends the process with a non-zero
status and one line on stderr saying why. A watchdog thread ends it whatever GStreamer does.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import wave
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

OPUS_CAPS = "application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"
RATE = 48000
#: Exit statuses: what went wrong, for the test to tell apart.
HTTP_FAILED, CONNECTION_FAILED, PIPELINE_FAILED, TIMED_OUT = 2, 3, 4, 5


_EMITTING = threading.Lock()


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout (webrtcbin calls from its own threads: one writer at a time)."""
    line = json.dumps({"event": event, **fields}) + "\n"
    with _EMITTING:
        sys.stdout.write(line)
        sys.stdout.flush()


class Client:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loop = GLib.MainLoop()
        self.exit_status: int | None = None
        self.location: str | None = None
        self.connected = False
        self.offering = False
        self.offer_posted = False
        self.hung_up = False
        self.pending_candidates: list[tuple[int, str]] = []
        self.trickle_ok = True
        self.patches: queue.Queue[str] = queue.Queue()
        self.patcher: threading.Thread | None = None
        self.pcm = bytearray()
        self.pcm_lock = threading.Lock()
        self.pipeline = self._build()
        self.webrtc = self.pipeline.get_by_name("webrtc")
        self.webrtc.connect("on-negotiation-needed", self._on_negotiation_needed)
        self.webrtc.connect("on-ice-candidate", self._on_ice_candidate)
        self.webrtc.connect("notify::ice-gathering-state", self._on_gathering)
        self.webrtc.connect("notify::ice-connection-state", self._on_ice_state)
        self.webrtc.connect("notify::connection-state", self._on_connection_state)
        self.webrtc.connect("pad-added", self._on_pad_added)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)

    # -- the pipeline -----------------------------------------------------------------------------

    def _build(self) -> Any:
        common = "webrtcbin name=webrtc bundle-policy=max-bundle latency=100"
        if self.args.mode == "publish":
            description = (
                f"{common} audiotestsrc is-live=true wave=sine freq={self.args.freq} "
                f"volume={self.args.volume} ! audioconvert ! audioresample ! "
                "opusenc frame-size=20 ! rtpopuspay pt=111 ! "
                f"{OPUS_CAPS} ! webrtc."
            )
            pipeline = Gst.parse_launch(description)
        else:
            # webrtcbin alone (parse_launch would give the element, not a pipeline); the
            # decoding branch is added when the track arrives (``_on_pad_added``).
            pipeline = Gst.Pipeline.new("play")
            pipeline.add(Gst.parse_launch(common))
        webrtc = pipeline.get_by_name("webrtc")
        if self.args.mode == "publish":
            transceiver = webrtc.emit("get-transceiver", 0)
            transceiver.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        else:
            webrtc.emit(
                "add-transceiver",
                GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY,
                Gst.Caps.from_string(OPUS_CAPS),
            )
        return pipeline

    def _on_pad_added(self, _webrtc: Any, pad: Any) -> None:
        """Play: decode the arriving Opus to 48 kHz mono S16LE for the WAV file."""
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decode = Gst.parse_bin_from_description(
            "rtpopusdepay ! opusdec plc=true ! audioconvert ! audioresample ! "
            f"audio/x-raw,rate={RATE},channels=1,format=S16LE ! "
            "appsink name=pcm emit-signals=true sync=false",
            True,
        )
        self.pipeline.add(decode)
        decode.get_by_name("pcm").connect("new-sample", self._on_sample)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))
        emit("track", caps=pad.get_current_caps().to_string() if pad.get_current_caps() else "")

    def _on_sample(self, sink: Any) -> Any:
        sample = sink.emit("pull-sample")
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst.MapFlags.READ)
        if ok:
            with self.pcm_lock:
                self.pcm.extend(info.data)
            buffer.unmap(info)
        return Gst.FlowReturn.OK

    def _on_message(self, _bus: Any, message: Any) -> None:
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            self.fail(PIPELINE_FAILED, f"pipeline error: {error.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            emit("warning", message=warning.message, debug=debug or "")

    # -- the offer --------------------------------------------------------------------------------

    def _on_negotiation_needed(self, _webrtc: Any) -> None:
        if self.offering:
            return
        self.offering = True
        promise = Gst.Promise.new_with_change_func(self._on_offer_created, None)
        self.webrtc.emit("create-offer", None, promise)

    def _on_offer_created(self, promise: Any, _data: Any) -> None:
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply is not None else None
        if offer is None:
            GLib.idle_add(self.fail, CONNECTION_FAILED, "webrtcbin made no offer")
            return
        promise = Gst.Promise.new_with_change_func(self._on_offer_set, None)
        self.webrtc.emit("set-local-description", offer, promise)

    def _on_offer_set(self, _promise: Any, _data: Any) -> None:
        emit("offer")
        if self.args.trickle:  # at once: the candidates follow as PATCHes
            GLib.idle_add(self._post_offer)

    def _on_ice_candidate(self, _webrtc: Any, mline: int, candidate: str) -> None:
        if self.args.trickle:
            GLib.idle_add(self._trickle, mline, candidate)

    def _on_gathering(self, *_: Any) -> None:
        state = self.webrtc.get_property("ice-gathering-state")
        emit("gathering", state=state.value_nick)
        if state == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            if self.args.trickle:
                GLib.idle_add(self._trickle, -1, "")
            else:
                GLib.idle_add(self._post_offer)

    def _local_sdp(self) -> str:
        text: str = self.webrtc.get_property("local-description").sdp.as_text()
        return text

    def _post_offer(self) -> bool:
        if self.offer_posted or self.exit_status is not None:
            return False
        self.offer_posted = True
        offer = self._local_sdp()
        threading.Thread(target=self._post_in_thread, args=(offer,), daemon=True).start()
        return False

    def _post_in_thread(self, offer: str) -> None:
        status, headers, body = self.request("POST", self.args.url, offer, "application/sdp")
        GLib.idle_add(self._on_answer, status, headers, body)

    def _on_answer(self, status: int, headers: dict[str, str], body: str) -> bool:
        emit("answer", status=status)
        if status != 201:
            self.fail(HTTP_FAILED, f"POST {self.args.url} answered {status}: {body.strip()}")
            return False
        location = headers.get("location")
        if not location:
            self.fail(HTTP_FAILED, f"POST {self.args.url} answered 201 without a Location")
            return False
        self.location = urllib.parse.urljoin(self.args.url, location)
        emit("location", url=self.location)
        result, message = GstSdp.SDPMessage.new_from_text(body)
        if result != GstSdp.SDPResult.OK:
            self.fail(HTTP_FAILED, f"the answer is not SDP: {body[:200]!r}")
            return False
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        promise = Gst.Promise.new_with_change_func(self._on_answer_set, None)
        self.webrtc.emit("set-remote-description", answer, promise)
        self._watch_dtls()
        for mline, candidate in self.pending_candidates:
            self._trickle(mline, candidate)
        self.pending_candidates.clear()
        return False

    def _on_answer_set(self, promise: Any, _data: Any) -> None:
        reply = promise.get_reply()
        error = reply.get_value("error") if reply is not None and reply.has_field("error") else None
        if error is not None:
            GLib.idle_add(self.fail, CONNECTION_FAILED, f"the answer was refused: {error}")

    # -- trickle ICE (RFC 8840) -------------------------------------------------------------------

    def _trickle(self, mline: int, candidate: str) -> bool:
        """PATCH one candidate (or, with ``mline`` -1, the end of candidates) to the session."""
        if not self.trickle_ok or self.exit_status is not None:
            return False
        if self.location is None:
            self.pending_candidates.append((mline, candidate))
            return False
        if self.patcher is None:  # one at a time, in order: the end of candidates comes last
            self.patcher = threading.Thread(target=self._patch_in_thread, daemon=True)
            self.patcher.start()
        self.patches.put(self._sdpfrag(mline, candidate))
        return False

    def _sdpfrag(self, mline: int, candidate: str) -> str:
        sdp = self._local_sdp().splitlines()
        ufrag = next((line for line in sdp if line.startswith("a=ice-ufrag:")), "")
        pwd = next((line for line in sdp if line.startswith("a=ice-pwd:")), "")
        media = next((line for line in sdp if line.startswith("m=")), "m=audio 9 UDP/TLS/RTP/SAVPF")
        mid = next((line for line in sdp if line.startswith("a=mid:")), "a=mid:0")
        lines = [ufrag, pwd, media, mid]
        lines.append(f"a={candidate}" if mline >= 0 else "a=end-of-candidates")
        return "\r\n".join(lines) + "\r\n"

    def _patch_in_thread(self) -> None:
        assert self.location is not None
        while self.trickle_ok:
            fragment = self.patches.get()
            status, _, body = self.request(
                "PATCH", self.location, fragment, "application/trickle-ice-sdpfrag"
            )
            if status in (405, 501):  # the server takes no trickled candidates: stop trying
                self.trickle_ok = False
            emit("trickle", status=status, detail=body.strip()[:200] if status >= 300 else "")

    # -- the connection ---------------------------------------------------------------------------

    def _watch_dtls(self) -> None:
        for index in range(8):
            transceiver = self.webrtc.emit("get-transceiver", index)
            if transceiver is None:
                break
            transport = transceiver.get_property("receiver").get_property("transport")
            if transport is not None:
                transport.connect("notify::state", self._on_dtls_state)

    def _on_dtls_state(self, transport: Any, _spec: Any) -> None:
        state = transport.get_property("state")
        emit("dtls", state=state.value_nick)
        if state == GstWebRTC.WebRTCDTLSTransportState.CONNECTED:
            GLib.idle_add(self._on_connected)
        elif state == GstWebRTC.WebRTCDTLSTransportState.FAILED:
            GLib.idle_add(self.fail, CONNECTION_FAILED, "DTLS failed")

    def _on_ice_state(self, *_: Any) -> None:
        state = self.webrtc.get_property("ice-connection-state")
        emit("ice", state=state.value_nick)
        if state == GstWebRTC.WebRTCICEConnectionState.FAILED:
            GLib.idle_add(self.fail, CONNECTION_FAILED, "ICE failed")

    def _on_connection_state(self, *_: Any) -> None:
        state = self.webrtc.get_property("connection-state")
        emit("peer", state=state.value_nick)
        if state == GstWebRTC.WebRTCPeerConnectionState.FAILED:
            GLib.idle_add(self.fail, CONNECTION_FAILED, "the peer connection failed")

    def _on_connected(self) -> bool:
        if self.connected:
            return False
        self.connected = True
        emit("connection", state="connected")
        GLib.timeout_add(int(self.args.seconds * 1000), self._finish)
        return False

    def _connect_deadline(self) -> bool:
        if not self.connected and self.exit_status is None:
            self.fail(TIMED_OUT, f"not connected within {self.args.connect_timeout:g} s")
        return False

    def _finish(self) -> bool:
        promise = Gst.Promise.new_with_change_func(self._on_stats, None)
        self.webrtc.emit("get-stats", None, promise)
        GLib.timeout_add(1000, self._hang_up)  # in case the stats never come
        return False

    def _on_stats(self, promise: Any, _data: Any) -> None:
        reply = promise.get_reply()
        found: dict[str, int] = {}
        counters = ("packets-sent", "packets-received", "packets-lost")
        kinds = ("outbound-rtp", "inbound-rtp", "remote-inbound-rtp")

        def visit(_field: Any, value: Any, _data: Any) -> bool:
            if isinstance(value, Gst.Structure) and value.get_name() in kinds:
                for name in counters:
                    if value.has_field(name):
                        found[f"{value.get_name()}.{name}"] = int(value.get_value(name))
            return True

        if reply is not None:
            reply.foreach(visit, None)
        emit("stats", **found)
        GLib.idle_add(self._hang_up)

    def _hang_up(self) -> bool:
        if self.hung_up:
            return False
        self.hung_up = True
        threading.Thread(target=self._delete_in_thread, daemon=True).start()
        return False

    def _delete_in_thread(self) -> None:
        status, _, body = (
            self.request("DELETE", self.location) if self.location else (0, {}, "no session")
        )
        GLib.idle_add(self._on_deleted, status, body)

    def _on_deleted(self, status: int, body: str) -> bool:
        emit("deleted", status=status)
        if not 200 <= status < 300:
            self.fail(HTTP_FAILED, f"DELETE {self.location} answered {status}: {body.strip()}")
            return False
        self.write_wav()
        emit("done")
        self.exit_status = 0
        self.loop.quit()
        return False

    # -- HTTP -------------------------------------------------------------------------------------

    def request(
        self, method: str, url: str, body: str | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Authorization": f"Bearer {self.args.token}"} if self.args.token else {}
        if content_type:
            headers["Content-Type"] = content_type
        data = body.encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.args.http_timeout) as response:
                text = response.read().decode("utf-8", "replace")
                return response.status, {k.lower(): v for k, v in response.headers.items()}, text
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, text
        except OSError as exc:
            return 0, {}, f"{type(exc).__name__}: {exc}"

    # -- ending -----------------------------------------------------------------------------------

    def write_wav(self) -> None:
        if self.args.mode != "play" or not self.args.wav:
            return
        with self.pcm_lock:
            data = bytes(self.pcm)
        with wave.open(self.args.wav, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(data)
        emit("wav", path=self.args.wav, seconds=len(data) / 2 / RATE)

    def fail(self, status: int, reason: str) -> bool:
        if self.exit_status is not None:
            return False
        self.exit_status = status
        print(f"gst_webrtc {self.args.mode}: {reason}", file=sys.stderr, flush=True)
        emit("failed", reason=reason)
        if self.location is not None and not self.hung_up:
            self.hung_up = True
            self.request("DELETE", self.location)  # leave no session behind
        self.write_wav()
        self.loop.quit()
        return False

    def run(self) -> int:
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self.fail(PIPELINE_FAILED, "the pipeline would not start")
            return PIPELINE_FAILED
        GLib.timeout_add(int(self.args.connect_timeout * 1000), self._connect_deadline)
        limit = self.args.connect_timeout + self.args.seconds + 3 * self.args.http_timeout
        GLib.timeout_add(int(limit * 1000), self.fail, TIMED_OUT, f"not done within {limit:g} s")
        self.loop.run()
        return self.exit_status if self.exit_status is not None else TIMED_OUT


def watchdog(seconds: float) -> None:
    """End the process whatever GStreamer or the network does (a stuck state change, ...)."""

    def kill() -> None:
        print(f"gst_webrtc: watchdog: still running after {seconds:g} s", file=sys.stderr)
        sys.stderr.flush()
        os._exit(TIMED_OUT)

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["publish", "play"])
    parser.add_argument("url", help="the WHIP or WHEP endpoint")
    parser.add_argument("--token", default="", help="a bearer token (a personal API token)")
    parser.add_argument("--seconds", type=float, default=5.0, help="connected for this long")
    parser.add_argument("--freq", type=float, default=440.0, help="publish: the tone (Hz)")
    parser.add_argument("--volume", type=float, default=0.3, help="publish: its level (0..1)")
    parser.add_argument("--wav", default="", help="play: the WAV file to write")
    parser.add_argument("--trickle", action="store_true", help="trickle ICE over PATCH")
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    parser.add_argument("--http-timeout", type=float, default=10.0)
    args = parser.parse_args()
    Gst.init(None)
    client = Client(args)
    watchdog(args.connect_timeout + args.seconds + 4 * args.http_timeout + 10)
    status = client.run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Stopping webrtcbin can block on its threads; everything is said, and the session is gone.
    os._exit(status)


if __name__ == "__main__":
    main()
