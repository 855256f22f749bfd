"""corridor.corridors."""
