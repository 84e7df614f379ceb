"""A file transport: one ``NNNNNN.mirage`` file of wire bytes per segment in a folder.

It lets the sender and receiver run as separate processes before the live WebRTC transport
exists, and it is a handy way to keep payloads for later inspection.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

from mirage_stream.errors import InputError
from mirage_stream.link.simulated import Delivery
from mirage_stream.pipeline import Envelope, SegmentTrace
from mirage_stream.types import LinkReport

SUFFIX = ".mirage"


@dataclass
class PayloadFileSink:
    """Writes each delivery's bytes to ``folder/NNNNNN.mirage`` and its link report to
    ``folder/link.jsonl``."""

    folder: Path

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._log = (self.folder / "link.jsonl").open("w")

    async def consume(self, delivery: Delivery, trace: SegmentTrace) -> None:
        path = self.folder / f"{trace.index:06d}{SUFFIX}"
        if delivery.data is not None:  # a lost payload leaves a gap, as on a real link
            await asyncio.to_thread(path.write_bytes, delivery.data)
        self._log.write(json.dumps({"index": trace.index, **asdict(delivery.report)}) + "\n")

    async def close(self) -> None:
        self._log.close()


async def read_payload_files(folder: Path) -> AsyncIterator[Envelope[Delivery]]:
    """Deliveries from a folder written by ``PayloadFileSink``, in segment order."""
    if not folder.is_dir():
        raise InputError(f"payload folder {folder} does not exist")
    paths = sorted(folder.glob(f"*{SUFFIX}"))
    if not paths:
        raise InputError(f"payload folder {folder} holds no *{SUFFIX} files")
    reports: dict[int, LinkReport] = {}
    log_path = folder / "link.jsonl"
    if log_path.is_file():
        for line in log_path.read_text().splitlines():
            entry = json.loads(line)
            index = entry.pop("index")
            entry["damaged_symbols"] = tuple(map(tuple, entry.get("damaged_symbols", ())))
            reports[index] = LinkReport(**entry)
    for position, path in enumerate(paths):
        index = int(path.stem) if path.stem.isdigit() else position
        data = await asyncio.to_thread(path.read_bytes)
        report = reports.get(index, LinkReport(0.0, 0.0, len(data) * 8, 0, 0, 0.0))
        yield Envelope(Delivery(data=data, report=report), SegmentTrace(index=index))
