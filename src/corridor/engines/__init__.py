"""corridor.engines."""
