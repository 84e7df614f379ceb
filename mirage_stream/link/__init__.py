"""The link between sender and receiver: wire encoding plus the simulated channel."""

from mirage_stream.link.simulated import Delivery, SimulatedLinkStage

__all__ = ["Delivery", "SimulatedLinkStage"]
