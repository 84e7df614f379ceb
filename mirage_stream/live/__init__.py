"""Live calls over WebRTC data channels: the receiver server and the sender client."""
