"""Quality and size metrics."""

from mirage_stream.metrics.quality import mse, psnr_db

__all__ = ["mse", "psnr_db"]
