"""Wire format of a SemanticPayload: versioned msgpack with a CRC32 per part."""

from mirage_stream.wire.payload import (
    MAX_PAYLOAD_BYTES,
    WireImage,
    decode_payload,
    encode_payload,
    encode_payload_image,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "WireImage",
    "decode_payload",
    "encode_payload",
    "encode_payload_image",
]
