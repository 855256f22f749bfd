"""corridor.report."""
