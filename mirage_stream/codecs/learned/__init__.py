"""Learned keyframe codecs (eq. 10-14): an FSQ-VAE (``vq``) and a q-bit autoencoder (``ae``)."""
