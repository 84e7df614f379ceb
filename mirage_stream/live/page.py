"""The playback page: the generated video (a WebRTC track from /watch) and live stats."""

PLAYBACK_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>mirage_stream playback</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #111; color: #eee; }
 video { width: 640px; height: 480px; background: #222; display: block; }
 #state { font-size: 1.2rem; margin: 0.6rem 0; }
 table { border-collapse: collapse; margin-top: 0.6rem; }
 td { padding: 0.15rem 0.8rem 0.15rem 0; }
 td:first-child { color: #aaa; white-space: nowrap; }
</style>
</head>
<body>
<h1>mirage_stream: generated video</h1>
<video id="video" autoplay playsinline muted></video>
<div id="state">connecting...</div>
<table id="stats"></table>
<script>
const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"};
const stateBox = document.getElementById("state");
const table = document.getElementById("stats");

async function watch() {
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.ontrack = (event) => { document.getElementById("video").srcObject = event.streams[0] ||
    new MediaStream([event.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
  });
  const reply = await fetch("/watch", {method: "POST", headers,
    body: JSON.stringify({sdp: pc.localDescription.sdp, type: pc.localDescription.type})});
  if (!reply.ok) { stateBox.textContent = "not allowed: open the link the receiver printed"; return; }
  await pc.setRemoteDescription(await reply.json());
}

// Rows are built as text nodes: the caption comes from the remote sender and is never HTML.
function showRows(rows) {
  table.replaceChildren(...rows.map(([name, value]) => {
    const tr = document.createElement("tr");
    for (const text of [name, value === null || value === undefined ? "-" : String(value)]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  }));
}

async function poll() {
  try {
    const reply = await fetch("/stats", {headers});
    if (!reply.ok) { stateBox.textContent = "stats refused (token?)"; return; }
    const stats = await reply.json();
    stateBox.textContent = stats.state;
    const call = stats.calls[stats.calls.length - 1];
    if (!call) { showRows([["calls", 0]]); return; }
    const last = call.last || {};
    const timings = (ms) => Object.entries(ms || {}).map(([k, v]) => k + " " + v + " ms").join(", ");
    const ber = typeof last.ber === "number" ? last.ber.toPrecision(3) : last.ber;
    const speedup = call.data_speedup === null ? null : Math.round(call.data_speedup).toLocaleString("en") + "x";
    showRows([
      ["call", call.call], ["segments played", call.segments_played],
      ["lost / skipped", call.segments_lost + " / " + call.segments_skipped],
      ["SNR", last.snr_db + " dB"], ["BER", ber], ["bytes per segment", last.payload_bytes],
      ["data speed-up", speedup], ["time on air", last.time_on_air_ms + " ms"],
      ["glass to glass", last.glass_to_glass_s + " s"],
      ["sender stages", timings(last.sender_stage_ms)], ["receiver stages", timings(last.stage_ms)],
      ["generation queue (now / max)", call.generation_queue_depth + " / " + call.generation_queue_max],
      ["caption", last.caption],
    ]);
  } catch (error) { stateBox.textContent = "receiver unreachable"; }
}

watch();
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
"""
