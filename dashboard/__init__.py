"""The ward dashboard officers open (Plotly Dash, served with its own scripts, no CDN).

``python -m dashboard`` (``make dashboard``) serves it on http://127.0.0.1:8050.
Views live in ``dashboard/views/`` and are listed in ``dashboard.views.VIEWS``:
adding a view is one module and one line (see docs/dashboard.md).
"""
