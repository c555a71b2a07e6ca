"""Source assets: one module per agency or publisher."""
