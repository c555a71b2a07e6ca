"""Hot spot selection: harm-weighted ranking of grid cells."""
