// The playback page: the generated video (a WebRTC track from /watch), the keyframe it was
// generated from, and live stats. Text from the far end (the caption) is set as text nodes,
// never as HTML. The page also measures when each segment appears (see measureSegments).
(() => {
const headers = mirage.headers();
const stateBox = document.getElementById("state");
const table = document.getElementById("stats");
const video = document.getElementById("video");
const keyframe = document.getElementById("keyframe");
let shownSegment = null;
let watching = null;  // this page's peer connection to the receiver

// The server moves the RTP timestamp of a segment's first frame 4 * (1 + index % 63) ticks off
// the 3600-tick frame grid (steps of 4: the conversion to RTP time may round a tick away). Seen
// here as each frame is shown, that gives the segment's real appearance time, which the server
// turns into glass-to-glass latency for /stats.
function measureSegments() {
  if (!video.requestVideoFrameCallback) return;
  let previous = null;
  const onFrame = (now, meta) => {
    if (typeof meta.rtpTimestamp === "number") {
      if (previous !== null) {
        const offset = ((meta.rtpTimestamp - previous) >>> 0) % 3600;
        const mark = Math.round(offset / 4) - 1;
        if (offset > 1 && mark >= 0 && mark < 63) {
          const shownAt = (performance.timeOrigin + (meta.expectedDisplayTime || now)) / 1000;
          fetch("/shown", {method: "POST", headers,
            body: JSON.stringify({mark, shown_at: shownAt})}).catch(() => {});
        }
      }
      previous = meta.rtpTimestamp;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

let refused = false;  // the token was refused: that message stays

async function watch() {
  const pc = watching = await mirage.peerConnection("/ice");
  pc.addTransceiver("video", {direction: "recvonly"});
  pc.ontrack = (event) => { video.srcObject = event.streams[0] || new MediaStream([event.track]); };
  const reply = await mirage.offerAndAnswer(pc, "/watch");
  if (!reply.ok) {
    refused = reply.status === 401;
    stateBox.textContent = refused ? "not allowed: open the link the receiver printed" : `watch refused (${reply.status})`;
    stateBox.className = "failed";
  }
}

async function poll() {
  try {
    const reply = await fetch("/stats", {headers});
    if (!reply.ok) {
      refused = refused || reply.status === 401;
      stateBox.textContent = refused ? "not allowed: open the link the receiver printed" : `stats refused (${reply.status})`;
      stateBox.className = "failed";
      return;
    }
    const stats = await reply.json();
    stateBox.textContent = stats.state;
    const calm = stats.state === "live" || stats.state === "waiting for a call";
    stateBox.className = calm ? "" : "failed";
    const call = stats.calls[stats.calls.length - 1] || stats.ended_calls[stats.ended_calls.length - 1];
    if (!call) { mirage.showRows(table, [["calls", 0]]); return; }
    const last = call.last || {};
    if (last.segment !== undefined && last.segment !== shownSegment) {
      shownSegment = last.segment;
      mirage.refreshImage(keyframe, "/keyframe.jpg");
    }
    const timings = (ms) => Object.entries(ms || {}).map(([k, v]) => k + " " + v + " ms").join(", ");
    const ber = typeof last.ber === "number" ? last.ber.toPrecision(3) : last.ber;
    const speedup = call.data_speedup === null ? null : Math.round(call.data_speedup).toLocaleString("en") + "x";
    // A value with its unit, or nothing before the first segment has been played.
    const withUnit = mirage.withUnit;
    mirage.showRows(table, [
      ["call", call.call + " (" + call.state + ")"], ["segments played", call.segments_played],
      ["lost / skipped", call.segments_lost + " / " + call.segments_skipped],
      ["SNR", withUnit(last.snr_db, " dB")], ["BER", ber], ["bytes per segment", last.payload_bytes],
      ["data speed-up (raw RGB at the working size, as in run's report)", speedup], ["time on air", withUnit(last.time_on_air_ms, " ms")],
      ["glass to glass", withUnit(last.glass_to_glass_s, " s")],
      ["call's path (sender to receiver)", mirage.describePath(call.connection)],
      ["this page's path", mirage.describePath(await mirage.path(watching))],
      ["sender stages", timings(last.sender_stage_ms)], ["receiver stages", timings(last.stage_ms)],
      ["generation queue (now / max)", call.generation_queue_depth + " / " + call.generation_queue_max],
      // What this call costs the server: its stages' CPU (cores) and the share of segments shed.
      ...(call.cost ? [["cost on this server", call.cost.cpu_cores + " cores"
        + (call.cost.shed_share === null ? "" : ", " + Math.round(100 * call.cost.shed_share) + "% shed")]] : []),
      // Work shed to stay in real time: segments the sender lightened or dropped, the receiver's drops.
      ...(call.shed && (call.shed.sender_light || call.shed.sender_skipped || call.shed.receiver_skipped)
        ? [["shed (sender lightened / dropped, receiver dropped)", call.shed.sender_light + " / "
          + call.shed.sender_skipped + ", " + call.shed.receiver_skipped]] : []),
      // Only a diffusion generator has a rate adapter: its setting and cost, once known.
      ...(call.generation_setting ? [["generation (rate adapter)", call.generation_setting + ", "
        + (withUnit(call.generation_s_per_s, " s per generated s") || "cost not measured yet") + ", "
        + call.generation_changes + (call.generation_changes === 1 ? " change" : " changes")]] : []),
      ["caption (received)", last.caption], ["prompt (personalised)", last.prompt],
      ["receiver notes", (last.notes || []).join("; ")],
      ...(call.error ? [["error", call.error]] : []),
    ]);
  } catch (error) { stateBox.textContent = "receiver unreachable"; }
}

watch();
measureSegments();
poll();
setInterval(poll, 1000);
})();
