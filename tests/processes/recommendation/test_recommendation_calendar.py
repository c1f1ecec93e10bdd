"""Working days in China: official data from chinesecalendar, admin overrides on top, weekends only
(with a warning) for a year nobody has published yet."""

from __future__ import annotations

from datetime import date

import pytest

from processes.calendar import add_working_days, calendar_warnings, is_working_day, library_knows


def test_a_period_skips_the_weekend_and_ends_at_the_end_of_its_last_day_in_beijing():
    # Thursday 2026-11-26: Fri 27, Mon 30, Tue 1, Wed 2, Thu 3
    assert add_working_days("2026-11-26T02:00:00+00:00", 5, None) == "2026-12-03T23:59:59+08:00"
    # Friday: the start day never counts, the weekend is skipped
    assert add_working_days("2026-11-27T02:00:00+00:00", 5, {}) == "2026-12-04T23:59:59+08:00"


def test_the_start_day_is_the_day_in_beijing_not_in_utc():
    # 20:00 UTC on Thursday is 04:00 on Friday in Beijing
    assert add_working_days("2026-11-26T20:00:00+00:00", 1, None) == "2026-11-30T23:59:59+08:00"
    # a naive timestamp is UTC, as the service stores times
    assert add_working_days("2026-11-26T20:00:00", 1, None) == "2026-11-30T23:59:59+08:00"


def test_national_day_holiday_is_skipped_and_the_saturday_make_up_day_counts():
    assert not is_working_day(date(2026, 10, 1))
    assert not is_working_day(date(2026, 10, 7))
    assert is_working_day(date(2026, 10, 10))  # Saturday, 调休 make-up working day
    assert not is_working_day(date(2026, 10, 11))
    # Tue 29 Sep: Wed 30, (1–7 Oct holiday), Thu 8, Fri 9, Sat 10 (make-up), Mon 12
    assert add_working_days("2026-09-29T02:00:00+00:00", 5, None) == "2026-10-12T23:59:59+08:00"
    # Mon 28 Sep: the 5th working day is the make-up Saturday itself
    assert add_working_days("2026-09-28T02:00:00+00:00", 5, None) == "2026-10-10T23:59:59+08:00"


def test_a_year_without_official_data_counts_weekends_only_and_is_reported():
    assert library_knows(2026) and not library_knows(2027)
    # Mon 28 Dec 2026: 29, 30, 31, Fri 1 Jan 2027 (no data: a plain Friday), Mon 4 Jan
    end = add_working_days("2026-12-28T02:00:00+00:00", 5, None)
    assert end == "2027-01-04T23:59:59+08:00"
    warnings = calendar_warnings("2026-12-28T02:00:00+00:00", end)
    assert len(warnings) == 1 and "2027" in warnings[0] and "holiday_overrides" in warnings[0]
    assert calendar_warnings("2026-01-05T02:00:00+00:00", "2026-12-31T23:59:59+08:00") == []
    assert [w[:4] for w in calendar_warnings("2026-12-28T00:00:00+00:00", "2028-01-10T00:00:00+00:00")] == \
        ["2027", "2028"]


def test_admin_overrides_win_over_the_weekend_rule_and_over_the_library():
    overrides = {"2027-01-01": "holiday", "2027-02-14": "workday"}
    assert add_working_days("2026-12-28T02:00:00+00:00", 5, overrides) == "2027-01-05T23:59:59+08:00"
    # Fri 12 Feb 2027: Sun 14 is a make-up working day by the admin's list
    assert add_working_days("2027-02-12T02:00:00+00:00", 1, overrides) == "2027-02-14T23:59:59+08:00"
    assert add_working_days("2027-02-12T02:00:00+00:00", 1, None) == "2027-02-15T23:59:59+08:00"
    # an override also beats the official data (e.g. a college-specific day off)
    assert add_working_days("2026-11-26T02:00:00+00:00", 1, {"2026-11-27": "holiday"}) == "2026-11-30T23:59:59+08:00"


@pytest.mark.parametrize("overrides", [{"2027-13-01": "holiday"}, {"2027-01-01": "day_off"}])
def test_a_broken_override_list_is_refused_rather_than_ignored(overrides):
    with pytest.raises(ValueError):
        add_working_days("2026-12-28T02:00:00+00:00", 5, overrides)


@pytest.mark.parametrize("days", [0, -1, True, 5.0, 100_000])
def test_the_number_of_days_must_be_a_sensible_integer(days):
    with pytest.raises(ValueError):
        add_working_days("2026-12-28T02:00:00+00:00", days, None)
