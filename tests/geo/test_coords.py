"""GCJ-02 conversion against published values (the coordtransform library's documented example:
天安门 area, WGS-84 116.404, 39.915 → GCJ-02 116.41024449916938, 39.91640428150164)."""

from __future__ import annotations

import pytest

from gridgov.geo.coords import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02


def test_forward_matches_the_published_value():
    lng, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lng == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat == pytest.approx(39.91640428150164, abs=1e-12)


def test_inverse_agrees_with_the_one_step_published_inverse_within_a_decimetre():
    # coordtransform's one-step gcj02towgs84(116.404, 39.915) = 116.39775550083061, 39.91359571849836;
    # the iterative inverse is closer to exact, within ~0.1 m of it.
    lng, lat = gcj02_to_wgs84(116.404, 39.915)
    assert lng == pytest.approx(116.39775550083061, abs=1e-6)
    assert lat == pytest.approx(39.91359571849836, abs=1e-6)


@pytest.mark.parametrize(("lng", "lat"), [(113.7, 39.7), (110.48, 29.35), (115.8, 32.9), (121.47, 31.23)])
def test_round_trip_is_sub_millimetre(lng, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert back[0] == pytest.approx(lng, abs=1e-8) and back[1] == pytest.approx(lat, abs=1e-8)
    # and the offset inside China is hundreds of metres, not zero
    moved = wgs84_to_gcj02(lng, lat)
    assert 1e-4 < abs(moved[0] - lng) + abs(moved[1] - lat) < 1e-2


def test_no_offset_outside_china():
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)
