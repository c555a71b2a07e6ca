"""Hand-made person records for linkage tests, and a Splink model trained on them once.

``people()`` builds a seeded population (several records per person, with typos,
missing dates of birth and moves) plus two hand-made cases a reviewer decides:

* ``A1``, ``A2``, ``A3``: three identical records of OLIVER QUARTERMAINE (a rare
  name, same date of birth and postcode): the model makes them one person;
* ``B1``, ``B2``: MARGARET and PEGGY ELLINGHAM, one without a date of birth and
  at another address: the model keeps them apart (they are not even blocked).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

FORENAMES = [
    "JAMES", "OLIVIA", "JACK", "AMELIA", "HARRY", "ISLA", "GEORGE", "AVA", "NOAH", "MIA",
    "LEO", "GRACE", "OSCAR", "LILY", "ARTHUR", "FREYA", "MUHAMMAD", "EMILY", "ALFIE", "ELLA",
    "CHARLIE", "SOPHIE", "THOMAS", "EVIE", "JOSHUA", "POPPY", "HENRY", "RUBY", "ARCHIE", "DAISY",
]  # fmt: skip
SURNAMES = [
    "SMITH", "JONES", "TAYLOR", "BROWN", "WILLIAMS", "WILSON", "JOHNSON", "DAVIES", "ROBINSON",
    "WRIGHT", "THOMPSON", "EVANS", "WALKER", "WHITE", "ROBERTS", "GREEN", "HALL", "WOOD",
    "JACKSON", "CLARKE", "PATEL", "KHAN", "LEWIS", "JAMES", "PHILLIPS", "MASON", "MITCHELL",
    "ROSE", "DAVIS", "RODRIGUEZ", "COX", "ALEXANDER", "MORGAN", "MOORE", "MILLS", "KING",
]  # fmt: skip
AGENCIES = [
    ("police", "nominals"),
    ("nhs", "safeguarding"),
    ("social_care", "cin_referrals"),
    ("probation", "cases"),
]
HAND_MADE = pd.DataFrame(
    [
        ("A1", "a", "OLIVER", "QUARTERMAINE", "1991-03-04", "OX9 9ZZ"),
        ("A2", "a", "OLIVER", "QUARTERMAINE", "1991-03-04", "OX9 9ZZ"),
        ("A3", "a", "OLIVER", "QUARTERMAINE", "1991-03-04", "OX9 9ZZ"),
        ("B1", "b1", "MARGARET", "ELLINGHAM", "1950-05-05", "RG1 1AA"),
        ("B2", "b2", "PEGGY", "ELLINGHAM", None, "RG31 7QQ"),
    ],
    columns=["tag", "person_id", "forename", "surname", "date_of_birth", "postcode"],
)


def _typo(name: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(1, len(name)))
    return name[:i] + "XQZ"[int(rng.integers(0, 3))] + name[i + 1 :]


def _postcode(rng: np.random.Generator) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return (
        f"OX{rng.integers(1, 30)} {rng.integers(1, 10)}"
        f"{letters[rng.integers(0, 20)]}{letters[rng.integers(0, 20)]}"
    )


def people(n_persons: int = 400, seed: int = 3) -> pd.DataFrame:
    """Records of ``n_persons`` people (1-4 records each) plus :data:`HAND_MADE`.

    Columns: the linkage columns, ``person_id`` (the truth) and ``tag`` (A1... for
    the hand-made records, empty otherwise).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_persons):
        fore, sur = rng.choice(FORENAMES), rng.choice(SURNAMES)
        dob = pd.Timestamp("1960-01-01") + pd.Timedelta(days=int(rng.integers(0, 18000)))
        home = _postcode(rng)
        pnc = f"{rng.integers(1990, 2024)}/{p:07d}A"
        nhs = f"{9000000000 + p}"
        for _ in range(int(rng.integers(1, 5))):
            agency, dataset = AGENCIES[int(rng.integers(0, len(AGENCIES)))]
            r = rng.random(4)
            rows.append(
                {
                    "agency": agency,
                    "dataset": dataset,
                    "forename": _typo(fore, rng) if r[0] < 0.1 else fore,
                    "surname": _typo(sur, rng) if r[1] < 0.1 else sur,
                    "date_of_birth": None if r[2] < 0.1 else dob,
                    "postcode": _postcode(rng) if r[3] < 0.2 else home,
                    "pnc_id": pnc if agency == "police" else None,
                    "nhs_number": nhs if agency == "nhs" else None,
                    "person_id": f"p{p}",
                    "tag": "",
                }
            )
    for h in HAND_MADE.itertuples(index=False):
        rows.append(
            {
                "agency": "police",
                "dataset": "nominals",
                "forename": h.forename,
                "surname": h.surname,
                "date_of_birth": pd.Timestamp(h.date_of_birth) if h.date_of_birth else None,
                "postcode": h.postcode,
                "pnc_id": None,
                "nhs_number": None,
                "person_id": h.person_id,
                "tag": h.tag,
            }
        )
    df = pd.DataFrame(rows)
    df["record_id"] = [t or f"R{i:05d}" for i, t in enumerate(df["tag"])]
    df["record_uid"] = df["agency"] + ":" + df["dataset"] + ":" + df["record_id"]
    df["date_of_birth"] = pd.to_datetime(df["date_of_birth"]).dt.date
    df["upn"] = None
    df["crn"] = None
    return df


def uid(records: pd.DataFrame, tag: str) -> str:
    """The record_uid of a hand-made record."""
    return records.loc[records["tag"] == tag, "record_uid"].item()


@pytest.fixture(scope="session")
def records() -> pd.DataFrame:
    """The seeded population with the hand-made cases."""
    return people()


@pytest.fixture(scope="session")
def trained_model_dir(records, tmp_path_factory):
    """A folder holding one model trained (seed 42) on :func:`records`."""
    from vrdp.linkage.run import train_model

    folder = tmp_path_factory.mktemp("linkage_models")
    train_model(records, folder, seed=42, max_pairs=1e5)
    return folder


@pytest.fixture
def model_dir(trained_model_dir, tmp_path):
    """A private copy of the trained model's folder."""
    return shutil.copytree(trained_model_dir, tmp_path / "models")
