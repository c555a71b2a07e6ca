"""ONS boundary assets: LSOA 2011 and 2021 and electoral wards, as GeoParquet."""

from dataclasses import dataclass

import dagster as dg

from config.resources import PlatformConfig

__all__ = ["BOUNDARIES", "boundary_assets", "read_boundaries"]


@dataclass(frozen=True)
class Boundary:
    """One shipped boundary layer."""

    name: str
    file: str
    code_column: str
    name_column: str
    description: str


BOUNDARIES: tuple[Boundary, ...] = (
    Boundary(
        "lsoa21",
        "thames_valley_lsoa21.geojson",
        "LSOA21CD",
        "LSOA21NM",
        "ONS Lower layer Super Output Areas (2021) covering Thames Valley.",
    ),
    Boundary(
        "lsoa11",
        "thames_valley_lsoa11.geojson",
        "LSOA11CD",
        "LSOA11NM",
        "ONS Lower layer Super Output Areas (2011), the vintage of older police.uk files.",
    ),
    Boundary(
        "wards",
        "thames_valley_wards_2025.geojson",
        "WD25CD",
        "WD25NM",
        "ONS electoral wards (May 2025) covering Thames Valley.",
    ),
)


def boundary_key(name: str) -> dg.AssetKey:
    """Asset key of a boundary layer, e.g. ``geography/lsoa21_boundaries``."""
    return dg.AssetKey(["geography", f"{name}_boundaries"])


def read_boundaries(platform: PlatformConfig, name: str):
    """Read a materialized boundary layer from the lake as a GeoDataFrame."""
    import geopandas as gpd

    path = platform.resolve().lake_dir / "geography" / f"{name}_boundaries.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path}: materialize {boundary_key(name).to_user_string()} first")
    return gpd.read_parquet(path)


def _boundary_asset(b: Boundary) -> dg.AssetsDefinition:
    @dg.asset(
        key=boundary_key(b.name),
        group_name="geography",
        kinds={"python", "geoparquet"},
        description=b.description,
        code_version="1",
    )
    def _asset(context: dg.AssetExecutionContext, platform: PlatformConfig) -> dg.MaterializeResult:
        import geopandas as gpd

        from vrdp.lake import sha256_file

        s = platform.resolve()
        src = s.public_data / "boundaries" / "thames_valley" / b.file
        gdf = gpd.read_file(src)
        gdf = gdf.sort_values(b.code_column).reset_index(drop=True)
        if gdf[b.code_column].duplicated().any():
            raise ValueError(f"{src}: duplicate {b.code_column} values")
        out = s.lake_dir / "geography" / f"{b.name}_boundaries.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        gdf.to_parquet(tmp, index=False)
        tmp.replace(out)
        return dg.MaterializeResult(
            metadata={
                "polygons": len(gdf),
                "code_column": b.code_column,
                "source_file": dg.MetadataValue.path(str(src)),
                "source_sha256": sha256_file(src),
                "crs": str(gdf.crs),
                "path": dg.MetadataValue.path(str(out)),
            },
        )

    return _asset


def boundary_assets() -> list[dg.AssetsDefinition]:
    """One asset per shipped boundary layer."""
    return [_boundary_asset(b) for b in BOUNDARIES]
