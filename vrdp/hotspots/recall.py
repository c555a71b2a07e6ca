"""Recall of planted hot spots (simulated world) by a hot spot selection.

``recall = |truth ∩ found| / |truth|``, where a planted cell counts as found if
a selected cell is within ``tolerance_k`` H3 grid steps of it (0 = the same
cell). ``precision`` is the share of selected cells within ``tolerance_k`` of
a planted cell.
"""

from __future__ import annotations

import h3

__all__ = ["planted_recall"]


def planted_recall(truth_cells, selected_cells, *, tolerance_k: int = 0) -> dict:
    """Recall and precision of ``selected_cells`` against planted ``truth_cells``.

    >>> c = h3.latlng_to_cell(51.752, -1.2577, 9)
    >>> nb = sorted(h3.grid_ring(c, 1))[0]
    >>> far = h3.latlng_to_cell(51.80, -1.20, 9)
    >>> planted_recall([c, far], [nb])["recall"]
    0.0
    >>> planted_recall([c, far], [nb], tolerance_k=1)["recall"]
    0.5
    """
    truth = set(truth_cells)
    selected = set(selected_cells)

    def near(cell: str, targets: set[str]) -> bool:
        if tolerance_k == 0:
            return cell in targets
        return any(n in targets for n in h3.grid_disk(cell, tolerance_k))

    found = sorted(c for c in truth if near(c, selected))
    true_sel = [c for c in selected if near(c, truth)]
    return {
        "truth_cells": len(truth),
        "selected_cells": len(selected),
        "found": len(found),
        "recall": len(found) / len(truth) if truth else float("nan"),
        "precision": len(true_sel) / len(selected) if selected else float("nan"),
        "missed_cells": sorted(truth - set(found)),
        "tolerance_k": tolerance_k,
    }
