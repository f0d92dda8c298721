"""Times as people read and write them, in the organisation's zone (TIMEZONE), and as Teams localises them.

Stored times are UTC. People see "Wed 25 Nov 2026, 21:27" in the organisation's zone; a card's TextBlock
carries Adaptive Cards' {{DATE()}} and {{TIME()}} instead, so that Teams shows each viewer their own
zone and locale, and `plain_card_times` turns those back into the plain form for a client that only
draws text (the terminal chat). The zone is always passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TYPED = "%Y-%m-%d %H:%M"  # what the incident form shows and takes back


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone (Europe/London); ValueError in plain words for anything else."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{name!r} is not a time zone name such as Europe/London") from exc


def shown(at: datetime, zone: tzinfo) -> str:
    """"Wed 25 Nov 2026, 21:27" in `zone`."""
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def shown_day(at: datetime, zone: tzinfo) -> str:
    """"Wed 25 Nov 2026" in `zone`."""
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}"


def shown_with_zone(at: datetime, zone: tzinfo) -> str:
    """"Wed 25 Nov 2026, 21:27 GMT": for text that travels beyond Teams (email)."""
    return f"{shown(at, zone)} {at.astimezone(zone):%Z}"


def typed(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime(TYPED)


# BANK_HOLIDAYS: the regions whose bank holidays are not working days, with the `holidays` library's subdivision of
# GB ("none" for an organisation that works them, or is outside the UK).
BANK_HOLIDAY_REGIONS = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR", "none": None}


@lru_cache(maxsize=8)
def bank_holidays(region: str, first_year: int, last_year: int) -> frozenset[date]:
    """The region's bank holidays (BANK_HOLIDAY_REGIONS) from `first_year` to `last_year`, computed offline by rule."""
    subdivision = BANK_HOLIDAY_REGIONS[region]
    if subdivision is None:
        return frozenset()
    import holidays  # noqa: PLC0415 (only where bank holidays are counted)

    return frozenset(holidays.country_holidays("GB", subdiv=subdivision, years=range(first_year, last_year + 1)))


def working_days(start: datetime, end: datetime, zone: tzinfo, holidays: frozenset[date] = frozenset()) -> int:
    """Working days (Monday to Friday, less `holidays`) from `start` to `end`, counting the days they fall on in
    `zone`: a request made on Friday and looked at on Monday has waited one."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if last <= first:
        return 0
    weeks, rest = divmod((last - first).days, 7)
    weekdays = weeks * 5 + sum((first + timedelta(days=weeks * 7 + n)).weekday() < 5 for n in range(1, rest + 1))
    return weekdays - sum(first < day <= last and day.weekday() < 5 for day in holidays)


def waited(start: datetime, now: datetime, holidays: frozenset[date] = frozenset()) -> str:
    """How long something has waited, in working days in `now`'s zone: "since today", "1 working day", "6 working days"."""
    zone = now.tzinfo or timezone.utc
    days = working_days(start, now, zone, holidays)
    if days == 0 and start.astimezone(zone).date() == now.astimezone(zone).date():
        return "since today"
    return f"{days} working day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class Waited:
    """How long things have waited as of `now` (in the organisation's zone): working days less `holidays`, and
    whether past `target_days` (the governance authority's aim for deciding a tool request, policy 7.3; 0 for none)."""

    now: datetime
    holidays: frozenset[date] = frozenset()
    target_days: int = 0

    def since(self, start: datetime) -> str:
        return waited(start, self.now, self.holidays)

    def past_target(self, start: datetime) -> bool:
        return bool(self.target_days) and working_days(start, self.now, self.now.tzinfo, self.holidays) > self.target_days


def _rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def card_when(at: datetime) -> str:
    """For a card's TextBlock: the date and time, localised by Teams for each viewer."""
    stamp = _rfc3339(at)
    return f"{{{{DATE({stamp}, SHORT)}}}} at {{{{TIME({stamp})}}}}"


def card_day(at: datetime) -> str:
    """For a card's TextBlock: the date alone, localised by Teams."""
    return f"{{{{DATE({_rfc3339(at)}, SHORT)}}}}"


_WHEN = re.compile(r"\{\{DATE\(([0-9T:\-]+Z), SHORT\)\}\} at \{\{TIME\(\1\)\}\}")
_DATE = re.compile(r"\{\{DATE\(([0-9T:\-]+Z)(?:, (?:SHORT|LONG|COMPACT))?\)\}\}")
_TIME = re.compile(r"\{\{TIME\(([0-9T:\-]+Z)\)\}\}")


def plain_card_times(text: str, zone: tzinfo) -> str:
    """The card's {{DATE()}}/{{TIME()}} as plain text in `zone`, for a client that does not localise them."""
    def at(match: re.Match) -> datetime:
        return datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    text = _WHEN.sub(lambda m: shown(at(m), zone), text)
    text = _DATE.sub(lambda m: shown_day(at(m), zone), text)
    return _TIME.sub(lambda m: f"{at(m).astimezone(zone):%H:%M}", text)
