"""Geography assets: ONS boundaries."""
