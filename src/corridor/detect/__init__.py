"""corridor.detect."""
