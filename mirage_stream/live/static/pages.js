// What the playback, camera and call pages share. Text from the far end (the caption) is only
// ever set as text nodes, never as HTML.
const mirage = {
  // The bearer token the page was opened with (#token=...), as request headers.
  headers() {
    const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
    return {"Authorization": "Bearer " + token, "Content-Type": "application/json"};
  },

  // Rows of [name, value] into a table, as text nodes.
  showRows(table, rows) {
    table.replaceChildren(...rows.map(([name, value]) => {
      const tr = document.createElement("tr");
      for (const text of [name, value === null || value === undefined ? "-" : String(value)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      return tr;
    }));
  },

  // A picture behind the token into an <img>, freeing the one it replaces.
  async refreshImage(image, url) {
    const reply = await fetch(url, {headers: mirage.headers()});
    if (!reply.ok) return;
    const old = image.src;
    image.src = URL.createObjectURL(await reply.blob());
    if (old) URL.revokeObjectURL(old);
  },

  // A peer connection with the ICE servers its server names (STUN, TURN: never hard-coded here).
  async peerConnection(iceUrl) {
    let config = {};
    try {
      const reply = await fetch(iceUrl, {headers: mirage.headers()});
      if (reply.ok) config = await reply.json();
    } catch (error) { /* the offer that follows reports the server's trouble */ }
    return new RTCPeerConnection(config);
  },

  // The selected candidate pair of a connected peer connection: its type (the more indirect
  // end's: a relay anywhere means relayed) and its measured round trip; null before it has one.
  async path(pc) {
    if (!pc || pc.connectionState !== "connected") return null;
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((report) => {
      if (report.type === "transport" && report.selectedCandidatePairId) pair = stats.get(report.selectedCandidatePairId);
    });
    if (!pair) stats.forEach((report) => { if (report.type === "candidate-pair" && report.nominated && report.state === "succeeded") pair = report; });
    if (!pair) return null;
    const order = ["host", "prflx", "srflx", "relay"];
    const types = [stats.get(pair.localCandidateId), stats.get(pair.remoteCandidateId)].map((c) => (c && c.candidateType) || "host");
    const type = order[Math.max(...types.map((t) => order.indexOf(t)))];
    const rtt = typeof pair.currentRoundTripTime === "number" ? Math.round(pair.currentRoundTripTime * 1000) : null;
    return {type, rtt_ms: rtt};
  },

  // "relay, 48 ms": a path for the tables, from IcePath.as_json or mirage.path.
  describePath(path) {
    if (!path) return null;
    const type = path.candidate_type || path.type;
    const names = {host: "host (direct)", srflx: "server-reflexive (through STUN)", prflx: "peer-reflexive", relay: "relay (TURN)"};
    return (names[type] || type) + (typeof path.rtt_ms === "number" ? ", round trip " + path.rtt_ms + " ms" : "");
  },

  // An offer with every ICE candidate in it (no trickle: one POST does the signaling).
  async offerAndAnswer(pc, url) {
    await pc.setLocalDescription(await pc.createOffer());
    if (pc.iceGatheringState !== "complete") {
      await new Promise((done) => {
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && done();
      });
    }
    const reply = await fetch(url, {method: "POST", headers: mirage.headers(),
      body: JSON.stringify({sdp: pc.localDescription.sdp, type: pc.localDescription.type})});
    if (reply.ok) await pc.setRemoteDescription(await reply.json());
    return reply;
  },

  withUnit(value, unit) {
    return value === undefined || value === null ? null : value + unit;
  },
};
