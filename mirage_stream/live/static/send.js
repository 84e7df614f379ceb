// The sender page: your camera, sent to the sender process over a loopback WebRTC connection,
// and what the sender makes of it. Text from the process (the caption) is set as text nodes.
(() => {
  const headers = mirage.headers();
  const stateBox = document.getElementById("send-state");
  const table = document.getElementById("send-stats");
  const keyframe = document.getElementById("sent-keyframe");
  let pageProblem = null;  // a camera problem known to this page outranks the server's view
  let shownSegment = null;
  let camera = null;  // this page's peer connection to the sender process

  function setState(text, failed) {
    stateBox.textContent = text;
    stateBox.className = failed ? "failed" : "";
  }

  async function startCamera() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {width: 640, height: 480}, audio: false});
    } catch (error) {
      pageProblem = "camera not available (" + error.name + "): allow the camera for this page and reload";
      setState(pageProblem, true);
      return;
    }
    document.getElementById("preview").srcObject = stream;
    const pc = camera = await mirage.peerConnection("/send/ice");
    for (const track of stream.getVideoTracks()) {
      pc.addTrack(track, stream);
      track.onended = () => {
        pageProblem = "camera stopped: reload the page to send it again";
        setState(pageProblem, true);
      };
    }
    const reply = await mirage.offerAndAnswer(pc, "/send/camera");
    if (!reply.ok) {
      pageProblem = reply.status === 401 ? "not allowed: open the link the sender printed"
        : "the sender refused the camera (" + reply.status + ")";
      setState(pageProblem, true);
      return;
    }
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") {
        pageProblem = "connection to the sender lost: reload the page";
        setState(pageProblem, true);
      }
    };
  }

  async function poll() {
    let status;
    try {
      const reply = await fetch("/send/status", {headers});
      if (!reply.ok) { setState("status refused (token?)", true); return; }
      status = await reply.json();
    } catch (error) { setState("sender process unreachable", true); return; }
    const last = status.last || {};
    if (pageProblem) setState(pageProblem, true);
    else if (status.failed) setState("sending failed: " + status.failed, true);
    else if (last.dropped) setState("sending, but " + last.dropped, true);
    else setState(status.camera === "live" ? "sending" : status.camera, false);
    if (last.segment !== undefined && last.segment !== shownSegment && !last.dropped) {
      shownSegment = last.segment;
      mirage.refreshImage(keyframe, "/send/keyframe.jpg");
    }
    const ber = typeof last.ber === "number" ? last.ber.toPrecision(3) : last.ber;
    const speedup = status.camera_speedup === null ? null : Math.round(status.camera_speedup).toLocaleString("en") + "x";
    const withUnit = mirage.withUnit;
    const size = status.camera_size ? status.camera_size[0] + "x" + status.camera_size[1] : null;
    mirage.showRows(table, [
      ["camera", size], ["segments sent / not sent", status.segments_sent + " / " + status.segments_unsent],
      ["caption", last.caption], ["bytes per segment", last.payload_bytes],
      ["SNR", withUnit(last.snr_db, " dB")], ["BER", ber], ["time on air", withUnit(last.time_on_air_ms, " ms")],
      ["bytes saved against the raw camera (its own size)", speedup], ["receiver", status.receiver],
      ["path to the receiver", mirage.describePath(status.connection)],
      ["this page's path", mirage.describePath(await mirage.path(camera))],
    ]);
  }

  startCamera();
  poll();
  setInterval(poll, 1000);
})();
