"""Write an RTM run's outputs and summarise it for asset metadata.

Files written by :func:`write_rtm_outputs` into one folder:

* ``factor_table.parquet``: factor, operationalisation, spatial influence, beta, RRV, p,
  and the combined relative risk (:func:`combined_relative_risk`);
* ``priority_places.parquet``: RTMDx's priority places (:func:`priority_places`);
* ``cells.parquet`` (GeoParquet) and ``cells.geojson``: the cell layer in WGS84;
* ``model.pkl``: the :class:`~vrdp.risk_terrain.model.RiskTerrainModel` (load with
  :func:`load_risk_terrain_model`; score H3 cells with
  :func:`~vrdp.risk_terrain.model.risk_score_for_h3`);
* ``report.json``: the run's figures.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from vrdp.risk_terrain.model import RiskTerrainModel, RTMResult, cell_layer

__all__ = [
    "write_rtm_outputs",
    "load_risk_terrain_model",
    "rtm_summary",
    "factor_table_markdown",
    "priority_places",
    "combined_relative_risk",
]


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_rtm_outputs(result: RTMResult, out_dir: Path) -> dict[str, Path]:
    """Write factor table, cell layer (GeoParquet + GeoJSON, WGS84), model and report."""
    from vrdp.lake import write_parquet_atomic

    out_dir = Path(out_dir)
    paths = {
        "factor_table": out_dir / "factor_table.parquet",
        "priority_places": out_dir / "priority_places.parquet",
        "cells_geoparquet": out_dir / "cells.parquet",
        "cells_geojson": out_dir / "cells.geojson",
        "model": out_dir / "model.pkl",
        "report": out_dir / "report.json",
    }
    write_parquet_atomic(combined_relative_risk(result), paths["factor_table"])
    write_parquet_atomic(priority_places(result), paths["priority_places"])
    layer = cell_layer(result)
    if "log_exposure" in layer:
        layer["log_exposure"] = layer["log_exposure"].where(np.isfinite(layer["log_exposure"]))
    _atomic_write(paths["cells_geoparquet"], lambda p: layer.to_parquet(p, index=False))
    # Name the layer: GDAL would otherwise name it after the temporary file, and
    # the same model would give a different file on every write.
    _atomic_write(
        paths["cells_geojson"], lambda p: layer.to_file(p, driver="GeoJSON", layer="cells")
    )
    _atomic_write(paths["model"], lambda p: p.write_bytes(pickle.dumps(result.model)))
    _atomic_write(
        paths["report"], lambda p: p.write_text(json.dumps(result.report, indent=2) + "\n")
    )
    return paths


def priority_places(result: RTMResult, n: int = 20) -> pd.DataFrame:
    """RTMDx's priority places: the ``n`` highest-risk cells with the factors present there.

    Cells are ranked by relative risk score (then recorded events, then cell id);
    ``factors`` names each selected factor present in the cell with its RRV, highest
    first (``"no modelled risk factors"`` when none is).

    Returns
    -------
    pandas.DataFrame
        ``priority_rank``, ``cell_id``, ``easting_m``, ``northing_m``, ``latitude``,
        ``longitude``, ``rrs``, ``event_count``, ``high_risk``, ``cluster_id``,
        ``n_factors``, ``factors``.
    """
    import geopandas as gpd

    cells = result.cells
    cols = [
        "priority_rank",
        "cell_id",
        "easting_m",
        "northing_m",
        "latitude",
        "longitude",
        "rrs",
        "event_count",
        "high_risk",
        "cluster_id",
        "n_factors",
        "factors",
    ]
    if not len(cells):
        return pd.DataFrame(columns=cols)
    top = cells.sort_values(
        ["rrs", "event_count", "cell_id"], ascending=[False, False, True], kind="stable"
    ).head(n)
    ft = result.factor_table.sort_values("rrv", ascending=False)
    labels, counts = [], []
    for _, row in top.iterrows():
        here = [
            f"{f.factor} (RRV {f.rrv:.2f}, {f.operationalisation} {f.spatial_influence_m:.0f} m)"
            for f in ft.itertuples()
            if row.get(f.variable)
        ]
        labels.append("; ".join(here) or "no modelled risk factors")
        counts.append(len(here))
    out = top.reset_index(drop=True).copy()
    out["priority_rank"] = range(1, len(out) + 1)
    pts = gpd.GeoSeries(
        gpd.points_from_xy(out["easting_m"], out["northing_m"]), crs="EPSG:27700"
    ).to_crs("EPSG:4326")
    out["latitude"] = pts.y.round(6).to_numpy()
    out["longitude"] = pts.x.round(6).to_numpy()
    out["n_factors"] = counts
    out["factors"] = labels
    for c in ("high_risk", "cluster_id"):
        if c not in out:
            out[c] = None
    return out[cols]


def combined_relative_risk(result: RTMResult) -> pd.DataFrame:
    """The factor table with each factor's venue attraction and combined relative risk.

    A risk factor built from places (pubs, bus stops) acts twice: on its
    surroundings (the proximity RRV) and through the events its own venues host
    (their class's attraction, estimated jointly with the RTM when the exposure is
    built from candidate locations: ``report["exposure_model"]``). Here
    ``venue_attraction`` is the factor's venues' attraction relative to the
    commonest class (count-weighted over the factor's categories) and
    ``combined_rr = rrv * venue_attraction``: expected events at one of its venues
    against one place of the commonest class away from every factor. Both are
    NaN without an estimated exposure model (``venue_classes`` then says so).
    """
    ft = result.factor_table.copy()
    em = result.report.get("exposure_model")
    cats = (result.report.get("data") or {}).get("factor_categories") or {}
    if em is None or not len(ft):
        ft["venue_classes"] = "no estimated exposure model" if em is None else ""
        ft["venue_attraction"] = np.nan
        ft["combined_rr"] = np.nan
        return ft
    att = pd.DataFrame(em["attractions"]).set_index("location_class")
    classes, rel = [], []
    for f in ft["factor"]:
        mine = [c for c in cats.get(f, [f]) if c in att.index and att.loc[c, "locations"] > 0]
        classes.append("|".join(mine))
        if mine:
            n = att.loc[mine, "locations"].astype(float)
            rel.append(float((att.loc[mine, "relative_to_commonest"] * n).sum() / n.sum()))
        else:
            rel.append(np.nan)
    ft["venue_classes"] = classes
    ft["venue_attraction"] = rel
    ft["combined_rr"] = ft["rrv"] * ft["venue_attraction"]
    return ft


def load_risk_terrain_model(path: Path) -> RiskTerrainModel:
    """The fitted model written by :func:`write_rtm_outputs` (trusted, platform-written file)."""
    model = pickle.loads(Path(path).read_bytes())
    if not isinstance(model, RiskTerrainModel):
        raise TypeError(f"{path} does not hold a RiskTerrainModel")
    return model


def factor_table_markdown(result: RTMResult) -> str:
    """The selected factors as a markdown table (for asset metadata)."""
    ft = result.factor_table
    if ft.empty:
        return "_no factor selected_"
    cols = ["factor", "operationalisation", "spatial_influence_m", "beta", "rrv", "p_value"]
    return ft[cols].round({"beta": 3, "rrv": 3}).to_markdown(index=False, floatfmt=".3g")


def rtm_summary(result: RTMResult) -> dict:
    """Plain figures of a run: family, BICs, selection, validation at 5 % and 10 % cover."""
    rep = result.report
    out = {
        "family": rep["family"],
        "bic_poisson": float(rep["bic"]["poisson"]),
        "bic_negbin": float(rep["bic"]["negbin"]),
        "nb_alpha": rep["nb_alpha"],
        "pearson_dispersion_poisson": rep["dispersion"]["poisson"],
        "pearson_dispersion_model": rep["dispersion"]["model"],
        "n_cells": rep["n_cells"],
        "cell_size_m": rep["cell_size_m"],
        "n_events": rep["n_events"],
        "n_candidate_variables": rep["n_candidate_variables"],
        "n_shortlisted": rep["n_shortlisted"],
        "n_selected": rep["n_selected"],
        "n_high_risk_cells": rep["n_high_risk_cells"],
        "n_clusters": rep["n_clusters"],
        "exposure_offset": rep.get("offset") is not None,
        "seconds": rep["seconds"]["total"],
    }
    if result.validation is not None:
        for row in result.validation.itertuples():
            if any(abs(row.coverage - c) < 1e-9 for c in (0.05, 0.10)):
                tag = f"{round(row.coverage * 100)}pct"
                out[f"rtm_pai_{tag}"] = float(row.rtm_pai)
                out[f"rtm_hit_rate_{tag}"] = float(row.rtm_hit_rate)
                out[f"hotspot_pai_{tag}"] = float(row.hotspot_pai)
                out[f"hotspot_hit_rate_{tag}"] = float(row.hotspot_hit_rate)
    return out
