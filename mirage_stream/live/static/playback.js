// The playback page: the generated video (a WebRTC track from /watch) and live stats.
// Text from the far end (the caption) is set as text nodes, never as HTML.
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
    stateBox.className = stats.state.startsWith("call failed") ? "failed" : "";
    const call = stats.calls[stats.calls.length - 1] || stats.ended_calls[stats.ended_calls.length - 1];
    if (!call) { showRows([["calls", 0]]); return; }
    const last = call.last || {};
    const timings = (ms) => Object.entries(ms || {}).map(([k, v]) => k + " " + v + " ms").join(", ");
    const ber = typeof last.ber === "number" ? last.ber.toPrecision(3) : last.ber;
    const speedup = call.data_speedup === null ? null : Math.round(call.data_speedup).toLocaleString("en") + "x";
    // A value with its unit, or nothing before the first segment has been played.
    const withUnit = (value, unit) => value === undefined || value === null ? null : value + unit;
    showRows([
      ["call", call.call + " (" + call.state + ")"], ["segments played", call.segments_played],
      ["lost / skipped", call.segments_lost + " / " + call.segments_skipped],
      ["SNR", withUnit(last.snr_db, " dB")], ["BER", ber], ["bytes per segment", last.payload_bytes],
      ["data speed-up", speedup], ["time on air", withUnit(last.time_on_air_ms, " ms")],
      ["glass to glass", withUnit(last.glass_to_glass_s, " s")],
      ["sender stages", timings(last.sender_stage_ms)], ["receiver stages", timings(last.stage_ms)],
      ["generation queue (now / max)", call.generation_queue_depth + " / " + call.generation_queue_max],
      ["caption", last.caption],
      ...(call.error ? [["error", call.error]] : []),
    ]);
  } catch (error) { stateBox.textContent = "receiver unreachable"; }
}

watch();
poll();
setInterval(poll, 1000);
