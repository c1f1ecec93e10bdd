"""Working days in mainland China (工作日), for periods such as the 5-working-day public notice.

The State Council announces each year's public holidays and make-up working days (调休) late in
the year before. The `chinesecalendar` package carries the official data for the years it knows
(2004–2026 in 1.11.0) and raises NotImplementedError for later years. On top of it an admin keeps
a list of overrides (the policy `holiday_overrides`: {"2027-01-01": "holiday", "2027-02-14":
"workday"}), which always wins. For a year neither knows, only weekends are days off, and
`calendar_warnings` names that year so the admin can add the announcement.

Periods follow the usual rule for legal periods (民法典 第201、203条): the day the period starts
on does not count, and the period ends at the end of its last day, Beijing time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar

#: China has no daylight saving time: Beijing time is always UTC+8.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)
MAX_DAYS = 3660  # ten years of working days is far beyond any period a process asks for

Overrides = Mapping[str, str] | None


def to_beijing(value: str | datetime) -> datetime:
    """An ISO datetime (naive = UTC, as the service stores times) or datetime, in Beijing time."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BEIJING)


@lru_cache(maxsize=64)
def library_knows(year: int) -> bool:
    """Whether chinesecalendar has the official holiday data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, overrides: Overrides = None) -> bool:
    override = (overrides or {}).get(day.isoformat())
    if override == "holiday":
        return False
    if override == "workday":
        return True
    if library_knows(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def _check_overrides(overrides: Overrides) -> None:
    for key, kind in (overrides or {}).items():
        date.fromisoformat(key)  # ValueError names the bad date
        if kind not in ("holiday", "workday"):
            raise ValueError(f"holiday_overrides[{key!r}] must be 'holiday' or 'workday', not {kind!r}")


def add_working_days(start_iso: str, days: int, overrides: Overrides = None) -> str:
    """The end of a period of `days` working days that starts at `start_iso`, as an ISO datetime
    in Beijing time (23:59:59 of the last working day). The start day itself never counts."""
    if not isinstance(days, int) or isinstance(days, bool) or not 0 < days <= MAX_DAYS:
        raise ValueError(f"days must be an integer between 1 and {MAX_DAYS}, not {days!r}")
    _check_overrides(overrides)
    day = to_beijing(start_iso).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
    return datetime.combine(day, END_OF_DAY, BEIJING).isoformat()


def calendar_warnings(start_iso: str, end_iso: str) -> list[str]:
    """One message per year in [start, end] whose official holiday data is missing."""
    first, last = to_beijing(start_iso).year, to_beijing(end_iso).year
    return [
        f"{year} 年的法定节假日与调休数据缺失，该年仅按周末计算工作日；请管理员在策略 holiday_overrides 中补录国务院公布的安排"
        f" / no official holiday data for {year}: only weekends were skipped; add the State Council's list to the"
        f" holiday_overrides policy"
        for year in range(first, last + 1) if not library_knows(year)
    ]
