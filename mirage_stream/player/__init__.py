"""Playback: to files, on a clock (and, later, to the browser window)."""

from mirage_stream.player.clock import PlaybackClock
from mirage_stream.player.file_sink import FileSink
from mirage_stream.player.video_writer import VideoWriter

__all__ = ["FileSink", "PlaybackClock", "VideoWriter"]
