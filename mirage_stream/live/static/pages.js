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
