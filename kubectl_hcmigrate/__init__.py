"""Back up, restore and migrate HyperShift hosted clusters between management clusters."""

__version__ = "0.1.0"
