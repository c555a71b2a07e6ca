"""Hot spot assets."""
