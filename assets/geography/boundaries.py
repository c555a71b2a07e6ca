"""The force's boundaries, cut at run time from the national pack: LSOAs, wards, outline.

The force (``VRDP_POLICE_UK_FORCE``, one or several data.police.uk slugs) is
configuration, and so is its area: the local authority districts in
``VRDP_FORCE_DISTRICTS``, or, when that is empty, the districts most of whose
LSOAs the force's own landed street-level files report
(:func:`vrdp.force_area.infer_districts`). The layers are cut from
``public_data/boundaries/england_wales`` (every LSOA 2021 and ward in England and
Wales) and written to ``lake/geography/`` in WGS84; the outline's bounding box
(BNG, plus 2 km) is what ingest uses to flag stray points.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from config.resources import PlatformConfig

__all__ = [
    "BOUNDARIES",
    "FORCE_AREA_KEY",
    "FORCE_OUTLINE_KEY",
    "boundary_assets",
    "boundary_key",
    "build_force_boundaries",
    "force_area_box",
    "force_boundaries",
    "read_boundaries",
    "read_force_outline",
]

#: The street-level landing files (the source module names the same key).
_STREET_LANDING_KEY = dg.AssetKey(["landing", "police_uk_street_files"])

FORCE_AREA_KEY = dg.AssetKey(["geography", "force_area"])
FORCE_OUTLINE_KEY = dg.AssetKey(["geography", "force_outline"])

#: Margin around the outline's bounding box (metres) inside which points count as the force's.
BOX_MARGIN_M = 2_000.0


@dataclass(frozen=True)
class Boundary:
    """One boundary layer points are coded against."""

    name: str
    code_column: str
    name_column: str
    description: str


BOUNDARIES: tuple[Boundary, ...] = (
    Boundary(
        "lsoa21",
        "LSOA21CD",
        "LSOA21NM",
        "ONS Lower layer Super Output Areas (2021) of the force area, cut from the national pack.",
    ),
    Boundary(
        "lsoa11",
        "LSOA11CD",
        "LSOA11NM",
        "ONS LSOAs (2011), the vintage of older police.uk files, where shipped for the force "
        "(empty otherwise).",
    ),
    Boundary(
        "wards",
        "WD25CD",
        "WD25NM",
        "ONS electoral wards (May 2025) lying inside the force outline, from the national pack.",
    ),
)


def boundary_key(name: str) -> dg.AssetKey:
    """Asset key of a boundary layer, e.g. ``geography/lsoa21_boundaries``."""
    return dg.AssetKey(["geography", f"{name}_boundaries"])


def _lake(lake_dir: Path, name: str) -> Path:
    return lake_dir / "geography" / f"{name}.parquet"


def _write_geo(gdf, path: Path) -> Path:
    """Write GeoParquet (geo metadata kept) via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    gdf.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


def read_boundaries(platform: PlatformConfig, name: str):
    """Read a materialized boundary layer from the lake as a GeoDataFrame (WGS84)."""
    import geopandas as gpd

    path = _lake(platform.resolve().lake_dir, f"{name}_boundaries")
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialize {boundary_key(name).to_user_string()} first")
    return gpd.read_parquet(path)


def read_force_outline(platform: PlatformConfig):
    """The force outline (one polygon, WGS84) as materialized by ``geography/force_outline``."""
    import geopandas as gpd

    path = _lake(platform.resolve().lake_dir, "force_outline")
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialize {FORCE_OUTLINE_KEY.to_user_string()} first")
    return gpd.read_parquet(path)


def force_area_box(platform: PlatformConfig):
    """The force's :class:`vrdp.coords.AreaBox` (outline bounds + 2 km), from the lake.

    Computed from the national pack when the geography assets have not run yet.
    """
    from vrdp.coords import AreaBox

    path = platform.resolve().lake_dir / "geography" / "force_area.json"
    if path.exists():
        return AreaBox(**json.loads(path.read_text())["box_bng"])
    return force_boundaries(platform.resolve()).box


@dataclass(frozen=True)
class BuiltBoundaries:
    """Layers, outline, box and how the area was chosen (:func:`build_force_boundaries`)."""

    lsoa21: object  # GeoDataFrame, WGS84
    lsoa11: object
    wards: object
    outline: object
    box: object  # vrdp.coords.AreaBox
    record: dict  # forces, districts, rule, district table


def build_force_boundaries(s) -> BuiltBoundaries:
    """Cut the configured force's boundaries from the national pack (no Dagster).

    Parameters
    ----------
    s
        :class:`config.settings.Settings`.

    Raises
    ------
    ValueError
        When no district is configured and none can be inferred (no landed
        street-level file of the force, or none reports most of a district's LSOAs).
    """
    import geopandas as gpd

    from config.demo import LSOA11_BOUNDARIES
    from vrdp.force_area import cut_force_boundaries, infer_districts, outline_box
    from vrdp.ingest.police_uk import find_street_files
    from vrdp.lake import sha256_file

    pack = s.national_boundaries_dir
    lsoa_file, ward_file = pack / "ew_lsoa21_bng.parquet", pack / "ew_wards25_bng.parquet"
    national = gpd.read_parquet(lsoa_file)
    table = None
    if s.force_districts:
        districts = list(s.force_districts)
        rule = "configured (VRDP_FORCE_DISTRICTS)"
    else:
        from vrdp.force_area import reported_lsoa_codes

        landing = s.landing_dir / "police_uk" / "street"
        files = [p for f in s.police_uk_forces for p in find_street_files(landing, f).values()]
        if not files:
            raise ValueError(
                f"no street-level file of {s.police_uk_force} in {landing} to infer its area "
                "from: land the force's data.police.uk files there, or set VRDP_FORCE_DISTRICTS"
            )
        table = infer_districts(reported_lsoa_codes(files), national.drop(columns="geometry"))
        districts = table.loc[table["in_force"], "lad_cd"].tolist()
        if not districts:
            raise ValueError(
                f"{len(files)} street-level files of {s.police_uk_force} report no district's "
                "LSOAs in the majority: set VRDP_FORCE_DISTRICTS"
            )
        rule = (
            f"inferred from the LSOA codes of {len(files)} landed street-level files "
            "(districts more than half of whose LSOAs they report)"
        )
    cut = cut_force_boundaries(national, gpd.read_parquet(ward_file), districts)
    box = outline_box(cut.outline, margin_m=BOX_MARGIN_M)
    lsoa11_files = [
        s.public_data / LSOA11_BOUNDARIES[f] for f in s.police_uk_forces if f in LSOA11_BOUNDARIES
    ]
    if lsoa11_files:
        import pandas as pd

        parts = [
            gpd.read_file(f)[["LSOA11CD", "LSOA11NM", "geometry"]].to_crs(4326)
            for f in lsoa11_files
        ]
        lsoa11 = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)
        lsoa11 = lsoa11.drop_duplicates("LSOA11CD").sort_values("LSOA11CD").reset_index(drop=True)
    else:
        lsoa11 = gpd.GeoDataFrame({"LSOA11CD": [], "LSOA11NM": []}, geometry=[], crs=4326)
    record = {
        "forces": list(s.police_uk_forces),
        "districts": sorted(districts),
        "rule": rule,
        "box_bng": {"e_min": box.e_min, "e_max": box.e_max, "n_min": box.n_min, "n_max": box.n_max},
        "box_margin_m": BOX_MARGIN_M,
        "lsoas": len(cut.lsoa21),
        "wards": len(cut.wards),
        "lsoa11_polygons": len(lsoa11),
        "outline_area_km2": round(float(cut.outline.area.sum()) / 1e6, 2),
        "national_pack": {p.name: sha256_file(p) for p in (lsoa_file, ward_file)},
        "district_table": [] if table is None else table.to_dict("records"),
    }
    return BuiltBoundaries(
        lsoa21=cut.lsoa21.to_crs(4326),
        lsoa11=lsoa11,
        wards=cut.wards.to_crs(4326),
        outline=cut.outline.to_crs(4326),
        box=box,
        record=record,
    )


_BUILT: dict[tuple, BuiltBoundaries] = {}


def force_boundaries(s) -> BuiltBoundaries:
    """:func:`build_force_boundaries`, built once per process for the same configuration."""
    landing = s.landing_dir / "police_uk" / "street"
    seen = (
        tuple(sorted((p.name, p.stat().st_size) for p in landing.glob("*")))
        if landing.is_dir()
        else ()
    )
    key = (s.police_uk_forces, s.force_districts, str(s.public_data), seen)
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = build_force_boundaries(s)
    return _BUILT[key]


@dg.multi_asset(
    name="force_boundaries",
    specs=[
        dg.AssetSpec(
            FORCE_AREA_KEY,
            description=(
                "The force area: its local authority districts (configured, or inferred from "
                "the LSOAs its own data.police.uk files report) and bounding box."
            ),
            group_name="geography",
            kinds={"python", "json"},
            deps=[_STREET_LANDING_KEY],
        ),
        *(
            dg.AssetSpec(
                boundary_key(b.name),
                description=b.description,
                group_name="geography",
                kinds={"python", "geoparquet"},
                deps=[FORCE_AREA_KEY],
            )
            for b in BOUNDARIES
        ),
        dg.AssetSpec(
            FORCE_OUTLINE_KEY,
            description=(
                "The force outline: the union of its LSOA 2021 polygons (the hot spot study area)."
            ),
            group_name="geography",
            kinds={"python", "geoparquet"},
            deps=[FORCE_AREA_KEY],
        ),
    ],
    code_version="2",
)
def force_boundaries_asset(context: dg.AssetExecutionContext, platform: PlatformConfig):
    """Cut the force's LSOAs, wards and outline from the national boundary pack."""
    s = platform.resolve()
    try:
        built = build_force_boundaries(s)
    except ValueError as exc:
        raise dg.Failure(str(exc)) from exc
    folder = s.lake_dir / "geography"
    folder.mkdir(parents=True, exist_ok=True)
    area_json = folder / "force_area.json"
    tmp = area_json.with_suffix(".tmp")
    tmp.write_text(json.dumps(built.record, indent=1, default=str))
    tmp.replace(area_json)
    rec = built.record
    context.log.info(f"{s.police_uk_force}: {len(rec['districts'])} districts, {rec['rule']}")
    yield dg.MaterializeResult(
        asset_key=FORCE_AREA_KEY,
        metadata={
            "forces": ", ".join(rec["forces"]),
            "districts": ", ".join(rec["districts"]),
            "district_count": len(rec["districts"]),
            "rule": rec["rule"],
            "box_bng": dg.MetadataValue.json(rec["box_bng"]),
            "outline_area_km2": rec["outline_area_km2"],
            "district_table": dg.MetadataValue.json(rec["district_table"][:60]),
            "path": dg.MetadataValue.path(str(area_json)),
        },
    )
    layers = {"lsoa21": built.lsoa21, "lsoa11": built.lsoa11, "wards": built.wards}
    for b in BOUNDARIES:
        gdf = layers[b.name]
        if gdf[b.code_column].duplicated().any():
            raise dg.Failure(f"{b.name}: duplicate {b.code_column} values")
        out = _write_geo(gdf, _lake(s.lake_dir, f"{b.name}_boundaries"))
        yield dg.MaterializeResult(
            asset_key=boundary_key(b.name),
            metadata={
                "polygons": len(gdf),
                "code_column": b.code_column,
                "districts": ", ".join(rec["districts"]),
                "crs": str(gdf.crs),
                "path": dg.MetadataValue.path(str(out)),
            },
        )
    out = _write_geo(built.outline, _lake(s.lake_dir, "force_outline"))
    yield dg.MaterializeResult(
        asset_key=FORCE_OUTLINE_KEY,
        metadata={
            "area_km2": rec["outline_area_km2"],
            "lsoas": rec["lsoas"],
            "box_bng": dg.MetadataValue.json(rec["box_bng"]),
            "path": dg.MetadataValue.path(str(out)),
        },
    )


def boundary_assets() -> list[dg.AssetsDefinition]:
    """The geography assets: the force area and its boundary layers (one multi-asset)."""
    return [force_boundaries_asset]
