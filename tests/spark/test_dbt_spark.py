"""dbt on Spark (dbt-spark, session method) builds the ported models like DuckDB does.

Ported so far: the person staging models of police, probation and NHS
safeguarding (``stg_police__nominals``, ``stg_police__occurrence_nominals``,
``stg_probation__cases``, ``stg_nhs__safeguarding_referrals``), through the
Spark versions of the shared macros (``dbt_project/macros/spark``): the lake
source, latest version per key, name and postcode standardisation, PNC and NHS
number checks.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import duckdb
import pandas as pd
import pytest

from config.settings import REPO_ROOT

MODELS = (
    "stg_police__nominals",
    "stg_police__occurrence_nominals",
    "stg_probation__cases",
    "stg_nhs__safeguarding_referrals",
)
SOURCES = ("police.nominals", "police.occurrence_nominals", "probation.cases", "nhs.safeguarding")
COMPARED = {
    "stg_police__nominals": (
        "nominal_id, delivery, forename, middle_names, surname, date_of_birth, sex, "
        "pnc_id, pnc_id_invalid, address_line, town, postcode"
    ),
    "stg_police__occurrence_nominals": "*",
    "stg_probation__cases": "*",
    "stg_nhs__safeguarding_referrals": "*",
}
KEYS = {
    "stg_police__nominals": "nominal_id",
    "stg_police__occurrence_nominals": "link_id",
    "stg_probation__cases": "event_id",
    "stg_nhs__safeguarding_referrals": "referral_id",
}


def _load_lake(world, root):
    from assets.sources.agencies import LANDING_SOURCES, agency_lake_paths
    from config.demo import DEMO_WORLD_BOX_BNG
    from quality.contracts.agencies import agency_contracts
    from vrdp.coords import AreaBox
    from vrdp.ingest.deliveries import load_delivery
    from vrdp.lake import write_parquet_atomic

    contracts = agency_contracts()
    for spec in (s for s in LANDING_SOURCES if s.source in SOURCES):
        for folder in sorted((world / "landing" / spec.agency / spec.dataset).iterdir()):
            result = load_delivery(
                sorted(folder.glob(spec.file_glob)),
                contracts[spec.source],
                delivery=folder.name,
                validated_on=date.today(),
                area=AreaBox(**DEMO_WORLD_BOX_BNG),
            )
            loaded, _ = agency_lake_paths(root / "lake", spec, folder.name)
            write_parquet_atomic(result.loaded, loaded)


def _dbt(root, target: str) -> None:
    """dbt run of the ported models; DuckDB in a subprocess (it keeps its file open
    in-process), Spark in-process (dbt-spark's session method takes this process's
    SparkSession)."""
    args = ["run", "--select", *MODELS, "--target", target, "--quiet"]
    args += ["--project-dir", str(REPO_ROOT / "dbt_project")]
    args += ["--profiles-dir", str(REPO_ROOT / "dbt_project")]
    args += ["--target-path", str(root / f"dbt_target_{target}")]
    args += ["--log-path", str(root / "dbt_logs")]
    if target == "spark":
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(args)
        assert result.success, result.exception
    else:
        code = "from dbt.cli.main import dbtRunner; import sys; "
        code += "sys.exit(0 if dbtRunner().invoke(sys.argv[1:]).success else 1)"
        subprocess.run([sys.executable, "-c", code, *args], check=True)


@pytest.fixture(scope="module")
def built(spark, small_world, tmp_path_factory):
    from vrdp.governance.permissions import ensure_restricted_db

    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("dbt_spark") / "data"
    mp.setenv("VRDP_DATA_ROOT", str(root))
    _load_lake(small_world, root)
    (root / "warehouse").mkdir(parents=True)
    ensure_restricted_db(root / "restricted" / "identity.duckdb")
    _dbt(root, "dev")  # DuckDB
    _dbt(root, "spark")  # the same models in the session of the `spark` fixture
    yield root
    mp.undo()


@pytest.mark.parametrize("model", MODELS)
def test_ported_models_have_the_same_rows_and_keys_as_duckdb(spark, built, model):
    cols = COMPARED[model]
    con = duckdb.connect(str(built / "warehouse" / "vrdp.duckdb"), read_only=True)
    try:
        duck = con.execute(f"select {cols} from staging.{model}").df()
    finally:
        con.close()
    spark_df = spark.sql(f"select {cols} from staging.{model}").toPandas()
    spark_df = spark_df.drop(columns=[c for c in spark_df if c not in duck.columns])
    key = KEYS[model]
    assert len(duck) > 100
    assert len(spark_df) == len(duck)
    assert set(spark_df[key]) == set(duck[key])
    # Every compared value equal (standardised names, postcodes, validated PNC ids).
    a = duck.sort_values(key).reset_index(drop=True).astype(str)
    b = spark_df[list(duck.columns)].sort_values(key).reset_index(drop=True).astype(str)
    pd.testing.assert_frame_equal(a, b)
