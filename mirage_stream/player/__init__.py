"""Playback to files (and, later, to the browser window)."""

from mirage_stream.player.file_sink import FileSink
from mirage_stream.player.video_writer import VideoWriter

__all__ = ["FileSink", "VideoWriter"]
