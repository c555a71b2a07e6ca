"""Source assets for every agency dataset delivered to the landing zone.

One factory builds, for each dataset, a multi-asset with the typed rows
(``<agency>/<dataset>``) and the quarantined rows
(``quarantine/<agency>_<dataset>``), partitioned by delivery folder
(``landing/<agency>/<dataset>/<YYYY-MM or YYYY-MM-DD>/``), plus an external
asset for the delivered files so the graph starts where the data does.
"""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import dagster as dg

from config.resources import PlatformConfig

__all__ = [
    "LandingSource",
    "LANDING_SOURCES",
    "source_keys",
    "delivery_partitions",
    "agency_lake_paths",
    "agency_source_assets",
    "boundary_layers",
    "ingest_agency_delivery",
]


@dataclass(frozen=True)
class LandingSource:
    """Where a dataset lands and how it is delivered."""

    source: str  # "<agency>.<dataset>", the contract's name
    file_glob: str  # files of one delivery folder
    description: str
    located: bool = False  # rows carry a point (its contract has coordinates)
    #: How rows get the located-table columns (``vrdp.ingest.locate.LOCATE_MODES``);
    #: None for datasets without places.
    locate: str | None = None

    @property
    def agency(self) -> str:
        """The delivering agency (first part of the name)."""
        return self.source.split(".")[0]

    @property
    def dataset(self) -> str:
        """The dataset within the agency."""
        return self.source.split(".")[1]

    @property
    def slug(self) -> str:
        """``<agency>_<dataset>``, for names that cannot hold dots."""
        return self.source.replace(".", "_")


LANDING_SOURCES: tuple[LandingSource, ...] = (
    LandingSource(
        "places.pois",
        "pois.csv",
        "Points of interest by category (BNG and WGS84).",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "places.addresses",
        "addresses.csv",
        "Address gazetteer, AddressBase style: one row per UPRN with its address point "
        "(BNG and WGS84) and classification; candidate places for risk terrain exposure.",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "places.streets",
        "streets.csv",
        "Street gazetteer (OS Open USRN / local street gazetteer style): one row per USRN "
        "with its street point (BNG and WGS84).",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "police.occurrences",
        "occurrences_*.csv",
        "Police RMS crime occurrences: offence code, time window, BNG location.",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "police.nominals",
        "nominals_*.csv",
        "Police RMS nominals (people): names, DOB, PNC id, address. Restricted.",
    ),
    LandingSource(
        "police.occurrence_nominals",
        "occurrence_nominals_*.csv",
        "Police RMS roles linking people to occurrences (victim, suspect, ...).",
    ),
    LandingSource(
        "police.cad_incidents",
        "cad_incidents_*.csv",
        "CAD calls for service with grading, classification and location.",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "police.intelligence",
        "intelligence_*.jsonl",
        "Intelligence logs (3x5x2 grading, SOC categories, subjects, locations); "
        "located at the first location's grid reference.",
        located=True,
        locate="first_location",
    ),
    LandingSource(
        "social_care.cin_referrals",
        "cin_referrals_*.csv",
        "Children's social care referrals (Children in Need census style). Restricted.",
    ),
    LandingSource(
        "probation.cases",
        "probation_cases_*.csv",
        "Probation sentence events (nDelius style): CRN, PNC, RoSH, tier. Restricted.",
    ),
    LandingSource(
        "nhs.istv_assaults",
        "istv_*.csv",
        "A&E assault attendances, ISTV minimum data set (anonymised); location text "
        "geocoded against the gazetteer of places, with a match score.",
        locate="gazetteer",
    ),
    LandingSource(
        "nhs.safeguarding",
        "safeguarding_*.csv",
        "NHS person-level safeguarding referrals (NHS number, name). Restricted.",
    ),
    LandingSource(
        "soc.chb_sites",
        "chb_sites.csv",
        "Clear-Hold-Build site register: one row per site and phase (clear, hold, build) "
        "with dates, wards, lead role and the site polygon (WGS84 WKT).",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "soc.disruptions",
        "disruptions_*.csv",
        "APMIS-like disruption activity: date, ward and point, agency, type, linked OCG, "
        "outcome (Major/Moderate/Minor).",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "patrol.gps",
        "gps_*.parquet",
        "Officers' GPS pings from the patrol app.",
        located=True,
    ),
    LandingSource(
        "patrol.activity",
        "activity*.jsonl",
        "Patrol app activity log: shifts, hot spot arrivals and departures, stops.",
        located=True,
    ),
    LandingSource(
        "patrol.teams",
        "teams.csv",
        "Teams reference: neighbourhood team id and name, the wards it covers, base "
        "station (BNG) and shift pattern; what the tasking assigns hot spots by.",
    ),
    LandingSource(
        "patrol.team_officers",
        "team_officers.csv",
        "Teams reference: which officer is on which team (for compliance per team).",
    ),
    # Community sources (issue 17): public reports are their own layer, never crime.
    LandingSource(
        "community.streetsafe_reports",
        "streetsafe_reports_*.csv",
        "StreetSafe-style public reports of places where people feel unsafe: pin "
        "(WGS84), time, category of concern, free text. Context, never crime counts.",
        located=True,
        locate="contract",
    ),
    LandingSource(
        "community.voluntary_referrals",
        "voluntary_referrals_*.csv",
        "Voluntary-sector referrals of young people (youth work, mentoring, hospital "
        "youth work); where they were engaged geocoded against the gazetteer. Restricted.",
        locate="gazetteer",
    ),
)


def source_keys(spec: LandingSource) -> tuple[dg.AssetKey, dg.AssetKey, dg.AssetKey]:
    """(loaded rows, quarantined rows, delivered files) asset keys of a dataset."""
    return (
        dg.AssetKey([spec.agency, spec.dataset]),
        dg.AssetKey(["quarantine", spec.slug]),
        dg.AssetKey(["landing", f"{spec.slug}_files"]),
    )


def delivery_partitions(spec: LandingSource) -> dg.DynamicPartitionsDefinition:
    """One partition per delivery folder, added by the sensor or ``make run``."""
    return dg.DynamicPartitionsDefinition(name=f"{spec.slug}_deliveries")


def agency_lake_paths(lake_dir: Path, spec: LandingSource, delivery: str) -> tuple[Path, Path]:
    """Parquet files of one delivery: (loaded rows, quarantined rows)."""
    return (
        lake_dir / spec.agency / spec.dataset / delivery / "part-0.parquet",
        lake_dir / "quarantine" / spec.slug / delivery / "part-0.parquet",
    )


def landing_folder(platform: PlatformConfig, spec: LandingSource) -> Path:
    """Where the dataset's delivery folders land."""
    return platform.resolve().landing_dir / spec.agency / spec.dataset


def boundary_layers(platform: PlatformConfig):
    """LSOA 2021/2011 and ward layers for locating rows, read once per process.

    The materialized boundary assets in the lake when present, otherwise cut
    from the national pack the same way in memory (same polygons), so a source
    delivery can be loaded before the boundary assets have run.
    """
    from assets.geography.boundaries import BOUNDARIES, force_boundaries

    s = platform.resolve()
    paths = []
    for b in BOUNDARIES:
        lake = s.lake_dir / "geography" / f"{b.name}_boundaries.parquet"
        if not lake.exists():
            from vrdp.geo import AreaLayers

            built = force_boundaries(s)
            return AreaLayers(built.lsoa21, built.lsoa11, built.wards)
        paths.append((str(lake), lake.stat().st_mtime_ns))
    return _read_layers(tuple(paths))


@lru_cache(maxsize=2)
def _read_layers(paths: tuple[tuple[str, int], ...]):
    from vrdp.ingest.locate import read_area_layers

    return read_area_layers(*(Path(p) for p, _ in paths))


def _loaded_elsewhere(lake_dir: Path, spec: LandingSource, delivery: str) -> dict[str, str]:
    """sha256 -> ``<delivery>/<file>`` of files loaded by the dataset's other deliveries."""
    found: dict[str, str] = {}
    root = lake_dir / spec.agency / spec.dataset
    for part in sorted(root.glob("*/part-0.parquet")) if root.exists() else []:
        if part.parent.name == delivery:
            continue
        st = part.stat()
        for f in _files_of(str(part), st.st_mtime_ns, st.st_size):
            if f["status"] == "loaded":
                found[f["sha256"]] = f"{part.parent.name}/{f['name']}"
    return found


@lru_cache(maxsize=4096)
def _files_of(part: str, mtime_ns: int, size: int) -> tuple[dict, ...]:
    """The files a lake part was loaded from (its ``vrdp.files`` metadata), read once.

    Keyed on the part's modification time and size, so a reloaded delivery is read
    again; a range run of n deliveries read the others' metadata n times each.
    """
    import json

    from vrdp.lake import read_parquet_metadata

    return tuple(json.loads(read_parquet_metadata(part).get("vrdp.files", "[]")))


def _location_deps(spec: LandingSource) -> list[dg.AssetKey]:
    """Boundary layers (and, for gazetteer geocoding, the POIs) a located dataset reads."""
    if not spec.locate:
        return []
    from assets.geography.boundaries import BOUNDARIES, boundary_key

    deps = [boundary_key(b.name) for b in BOUNDARIES]
    if spec.locate == "gazetteer":
        from assets.sources.gazetteer import GAZETTEER_KEY

        deps.append(GAZETTEER_KEY)
    return deps


def _gazetteer(platform: PlatformConfig, spec: LandingSource):
    """The gazetteer of places for datasets geocoded from text (None otherwise)."""
    if spec.locate != "gazetteer":
        return None
    from assets.sources.gazetteer import read_gazetteer

    return read_gazetteer(platform.resolve().lake_dir)


def _geocode_meta(loaded, gazetteer, s) -> dict:
    """Match rate (and, on the simulated world, accuracy against its truth)."""
    from vrdp.ingest.gazetteer import geocode_accuracy, geocode_summary

    if gazetteer is None:
        return {"gazetteer": "not built yet: every row kept unlocated"}
    meta = {"gazetteer_entries": len(gazetteer.entries), **geocode_summary(loaded)}
    truth = s.world_truth_dir
    if (
        truth is not None
        and "attendance_ref" in loaded  # the truth maps A&E attendances only
        and (truth / "event_records.parquet").exists()
    ):
        meta.update(geocode_accuracy(loaded, truth))
        meta["geocode_accuracy_source"] = f"simulated world truth ({truth}), evaluation only"
    return meta


@dataclass(frozen=True)
class IngestedDelivery:
    """What :func:`ingest_agency_delivery` did: rows, located rows and where they went."""

    result: object  # vrdp.ingest.deliveries.DeliveryResult
    loaded: object  # pandas.DataFrame, located when the dataset has places
    loaded_path: Path
    quarantine_path: Path
    gazetteer: object = None


def ingest_agency_delivery(
    spec: LandingSource,
    files: list[Path],
    *,
    delivery: str,
    lake_dir: Path,
    validated_on: date,
    layers=None,
    h3_resolution: int = 9,
    gazetteer=None,
    area=None,
) -> IngestedDelivery:
    """Validate, locate and write one delivery: the source asset's work, without Dagster.

    The ingest benchmark runs this same function. ``area`` is the force's
    :class:`vrdp.coords.AreaBox` (:func:`assets.geography.boundaries.force_area_box`):
    points outside it are flagged, and a BNG swap is fixed only when it lands inside.

    Raises
    ------
    vrdp.errors.SourceFileError
        For a file that cannot be read at all (the asset moves it to ``rejected/``).
    """
    from quality.contracts.agencies import agency_contracts
    from vrdp.ingest.deliveries import load_delivery
    from vrdp.lake import write_parquet_atomic

    result = load_delivery(
        files,
        agency_contracts()[spec.source],
        delivery=delivery,
        validated_on=validated_on,
        already_loaded=_loaded_elsewhere(lake_dir, spec, delivery),
        area=area,
    )
    loaded = result.loaded
    if spec.locate:
        from vrdp.ingest.locate import locate_delivery

        loaded = locate_delivery(
            loaded,
            spec.locate,
            layers=layers,
            h3_resolution=h3_resolution,
            area=area,
            gazetteer=gazetteer,
        )
    loaded_path, quarantine_path = agency_lake_paths(lake_dir, spec, delivery)
    meta = {"vrdp.files": result.files_json(), "vrdp.source": spec.source}
    write_parquet_atomic(loaded, loaded_path, metadata=meta)
    write_parquet_atomic(result.quarantine, quarantine_path, metadata=meta)
    return IngestedDelivery(result, loaded, loaded_path, quarantine_path, gazetteer)


def _load_one(platform: PlatformConfig, spec: LandingSource, delivery: str) -> tuple[dict, dict]:
    """Load one delivery (validate, locate, write): metadata of its (loaded, quarantined) rows."""
    from assets.geography.boundaries import force_area_box
    from vrdp.errors import SourceFileError
    from vrdp.ingest.landing import reject_file

    s = platform.resolve()
    # "Not in the future" means after the day the batch is validated.
    validated_on = date.today()
    folder = landing_folder(platform, spec) / delivery
    files = sorted(folder.glob(spec.file_glob))
    if not files:
        raise dg.Failure(f"no {spec.file_glob} files in {folder}")
    try:
        done = ingest_agency_delivery(
            spec,
            files,
            delivery=delivery,
            lake_dir=s.lake_dir,
            validated_on=validated_on,
            layers=boundary_layers(platform) if spec.locate else None,
            h3_resolution=s.h3_resolution,
            gazetteer=_gazetteer(platform, spec),
            area=force_area_box(platform),
        )
    except SourceFileError as exc:
        moved = reject_file(exc.path, s.landing_dir, s.rejected_dir, str(exc))
        raise dg.Failure(
            f"{exc} (moved to {moved})",
            metadata={"file": str(exc.path), "rejected_to": str(moved)},
        ) from exc
    result, loaded = done.result, done.loaded
    loaded_path, quarantine_path = done.loaded_path, done.quarantine_path
    located_meta = {}
    if spec.locate:
        located_meta = {
            "h3_resolution": s.h3_resolution,
            "rows_located": int(loaded["h3_cell"].notna().sum()),
            "rows_in_force_area": int(loaded["in_force_area"].fillna(False).sum()),
        }
        if spec.locate == "gazetteer":
            located_meta.update(_geocode_meta(loaded, done.gazetteer, s))

    duplicates = [f.name for f in result.files if f.status != "loaded"]
    common = {
        "delivery": delivery,
        "validated_on": validated_on.isoformat(),
        "files": len(files),
        "duplicate_files_skipped": ", ".join(duplicates) or "none",
        "rows_in": result.rows_in,
        "rows_loaded": len(loaded),
        "rows_quarantined": len(result.quarantine),
        # exact in-file repeats folded into a loaded row (its copies_in_file)
        "rows_collapsed": result.rows_collapsed,
    }
    extra = {}
    if "coordinate_fault" in loaded:
        faults = loaded["coordinate_fault"].fillna("ok")
        extra = {
            "coordinates_swapped_fixed": int(faults.eq("swapped_fixed").sum()),
            "rows_unlocated": int(faults.eq("missing").sum()),
            "rows_outside_force_area": int((faults.ne("missing") & ~loaded["in_area"]).sum()),
        }
    reasons = (
        result.quarantine["reason"].value_counts().sort_index().to_dict()
        if len(result.quarantine)
        else {}
    )
    loaded_meta = {
        **common,
        **extra,
        **located_meta,
        "dagster/row_count": len(loaded),
        "path": dg.MetadataValue.path(str(loaded_path)),
    }
    quarantine_meta = {
        **common,
        "dagster/row_count": len(result.quarantine),
        "reasons": dg.MetadataValue.json({k: int(v) for k, v in reasons.items()}),
        "path": dg.MetadataValue.path(str(quarantine_path)),
    }
    return loaded_meta, quarantine_meta


def _source_asset(spec: LandingSource) -> tuple[dg.AssetSpec, dg.AssetsDefinition]:
    key, quarantine_key, landing_key = source_keys(spec)
    partitions = delivery_partitions(spec)
    landing = dg.AssetSpec(
        landing_key,
        description=f"{spec.description} As delivered to landing/{spec.agency}/{spec.dataset}.",
        group_name="landing",
        kinds={spec.file_glob.rsplit(".", 1)[-1]},
    )

    @dg.multi_asset(
        name=f"{spec.slug}_source",
        specs=[
            dg.AssetSpec(
                key,
                description=spec.description,
                group_name="sources",
                kinds={"python", "parquet"},
                deps=[landing_key, *_location_deps(spec)],
                partitions_def=partitions,
            ),
            dg.AssetSpec(
                quarantine_key,
                description=f"Rows of {spec.source} that broke "
                "its contract: file, row, raw text, reason.",
                group_name="quarantine",
                kinds={"python", "parquet"},
                deps=[landing_key],
                partitions_def=partitions,
            ),
        ],
        partitions_def=partitions,
        # A backfill of many deliveries runs as one run (each delivery still
        # recorded and checked on its own).
        backfill_policy=dg.BackfillPolicy.single_run(),
        code_version="2",
    )
    def _asset(context: dg.AssetExecutionContext, platform: PlatformConfig):
        """Load one delivery, or each delivery of a partition range in order (one run).

        A range run (a backfill, or ``make run``'s batch of a source) records one
        materialization per delivery, with that delivery's own metadata.
        """
        from vrdp.governance.register import UnregisteredSourceError, refuse_unregistered

        try:  # no lawful basis registered, nothing loaded
            refuse_unregistered(spec.source)
        except UnregisteredSourceError as exc:
            raise dg.Failure(str(exc)) from exc
        if not context.has_partition_key_range:
            loaded_meta, quarantine_meta = _load_one(platform, spec, context.partition_key)
            yield dg.MaterializeResult(asset_key=key, metadata=loaded_meta)
            yield dg.MaterializeResult(asset_key=quarantine_key, metadata=quarantine_meta)
            return
        keys = list(context.partition_keys)
        for delivery in keys:
            loaded_meta, quarantine_meta = _load_one(platform, spec, delivery)
            context.add_asset_metadata(loaded_meta, asset_key=key, partition_key=delivery)
            context.add_asset_metadata(
                quarantine_meta, asset_key=quarantine_key, partition_key=delivery
            )
        yield dg.MaterializeResult(asset_key=key)
        yield dg.MaterializeResult(asset_key=quarantine_key)

    return landing, _asset


def agency_source_assets() -> list:
    """External landing specs and source multi-assets for every agency dataset."""
    out: list = []
    for spec in LANDING_SOURCES:
        out.extend(_source_asset(spec))
    return out
