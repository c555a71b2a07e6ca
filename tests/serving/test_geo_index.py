"""The nearby index returns exactly the brute-force answer (distances by hand)."""

import math
import random

import pytest

from exports.geo import RADIUS_BUCKETS_M, CandidateIndex


def hand_distance(lat1, lon1, lat2, lon2):
    r = 6371008.8
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.mark.parametrize("bucket", RADIUS_BUCKETS_M)
def test_candidate_index_matches_brute_force(bucket):
    rng = random.Random(int(bucket))
    # clustered points around Oxford and Reading plus a scatter: 400 points
    centres = [(51.752, -1.2577), (51.455, -0.969)]
    spread = bucket / 111_000 * 3
    points = [
        (c[0] + rng.gauss(0, spread), c[1] + rng.gauss(0, spread * 1.6))
        for c in centres
        for _ in range(150)
    ] + [(rng.uniform(51.3, 52.1), rng.uniform(-1.6, -0.5)) for _ in range(100)]
    idx = CandidateIndex(points, bucket)
    checked = hits = 0
    for _ in range(400):
        c = rng.choice(centres)
        q = (c[0] + rng.gauss(0, spread), c[1] + rng.gauss(0, spread * 1.6))
        for radius in (bucket, bucket * 0.5, bucket * 0.99):
            want = {i for i, p in enumerate(points) if hand_distance(*q, *p) <= radius}
            got = dict(idx.within(*q, radius))
            assert set(got) == want, (q, radius)
            for i, d in got.items():
                assert d == pytest.approx(hand_distance(*q, *points[i]), abs=1e-6)
            checked += 1
            hits += len(want)
    assert checked == 1200 and hits > 1200  # not a comparison of empty answers
    # candidate lists stay small: the index is a lookup, not a scan
    sizes = [len(idx.candidates(*rng.choice(points))) for _ in range(200)]
    assert sum(sizes) / len(sizes) < len(points) / 2


def test_index_refuses_radius_beyond_its_own():
    idx = CandidateIndex([(51.75, -1.25)], 500)
    with pytest.raises(ValueError, match="exceeds"):
        idx.within(51.75, -1.25, 501)
