"""Video sources: files (any container PyAV reads) and shipped sample clips."""

from mirage_stream.sources.file_source import FileSource, SourceConfig, fit_frame
from mirage_stream.sources.samples import SAMPLES, resolve_input, sample_path

__all__ = ["SAMPLES", "FileSource", "SourceConfig", "fit_frame", "resolve_input", "sample_path"]
