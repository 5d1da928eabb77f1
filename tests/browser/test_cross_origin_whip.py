"""A page on another origin publishes to a space's stage with plain RFC 9725 WHIP from
Chromium: allowed by ``SALON_WHIP_ALLOWED_ORIGINS``, opened by a bearer token (its cookies
would not be), and heard on the stage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.async_api import Playwright

from tests.browser.chromium import Screenshots, chromium, write_tone_wav
from tests.conftest import ServerFactory

TONE = 520.0

#: The studio page's script: the microphone up over WHIP, nothing but standard WebRTC and fetch.
PUBLISH = """
async ({ url, token }) => {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const pc = new RTCPeerConnection();
  pc.addTransceiver(stream.getAudioTracks()[0], { direction: "sendrecv" });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
  });
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` },
    body: pc.localDescription.sdp,
  });
  const result = {
    status: answer.status,
    location: answer.headers.get("Location"),
    etag: answer.headers.get("ETag"),
  };
  if (answer.status !== 201) return { ...result, body: await answer.text() };
  await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
  await new Promise((resolve, reject) => {
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") resolve();
      if (pc.connectionState === "failed") reject(new Error("the connection failed"));
    };
  });
  window.__pc = pc;
  // Without a token, the session cookie would not open it: the request is refused.
  const anonymous = await fetch(url, {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp,
  }).then((r) => r.status, () => "blocked");
  return { ...result, state: pc.connectionState, anonymous };
}
"""

HANG_UP = """
async ({ url, token }) => {
  const headers = { Authorization: `Bearer ${token}` };
  const done = await fetch(url, { method: "DELETE", headers });
  window.__pc.close();
  return done.status;
}
"""


class _Studio(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Studio</title><h1>A studio on another origin</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def studio() -> Iterator[str]:
    """A page on another origin (another port of the loopback: a secure context)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Studio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_page_on_another_origin_publishes_with_whip(
    make_server: ServerFactory, playwright: Playwright, screenshots: Screenshots, tmp_path: Path
) -> None:
    microphone = write_tone_wav(tmp_path / "studio.wav", TONE)
    with studio() as origin:
        async with make_server(whip_allowed_origins=[origin]) as server:
            host = await server.person()
            space = await host.create_space("From the studio")
            created = await host.call("POST", "/api/me/tokens", json={"name": "studio"}, status=201)
            token = created.json()["token"]
            url = f"{server.url}/api/spaces/{space['id']}/whip"
            async with (
                host.events(space["id"]) as events,
                chromium(playwright, microphone) as browser,
            ):
                page = await browser.new_page()
                await page.goto(origin)
                published = await page.evaluate(PUBLISH, {"url": url, "token": token})
                assert published["status"] == 201, published
                assert published["state"] == "connected"
                assert published["location"].startswith(f"/api/spaces/{space['id']}/whip/")
                assert published["etag"]
                assert published["anonymous"] in (401, "blocked")
                # The stage hears it: the host (whose token it is) is speaking.
                await events.until(
                    lambda e: e["type"] == "speaking" and host.id in e["user_ids"], within=20
                )
                await screenshots.take(page, "studio-publishing")
                session = f"{server.url}{published['location']}"
                assert await page.evaluate(HANG_UP, {"url": session, "token": token}) == 204
