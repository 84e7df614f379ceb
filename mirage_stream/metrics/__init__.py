"""Quality metrics: pixels (MSE, PSNR, SSIM) and captions (sentence similarity)."""

from mirage_stream.metrics.fidelity import mse, psnr_db, ssim

__all__ = ["mse", "psnr_db", "ssim"]
