"""mirage_stream: video sent as its meaning (caption + coded keyframes), generated back."""

__version__ = "0.1.0"
