"""Where the bot may send: the hosts of Teams' Bot Connector service, and nowhere else.

Every reply and proactive message goes to the `serviceUrl` an activity named, with the bot's own bearer
token. So an activity naming another host is refused at the edge, and the connector checks each address
again before it sends, which also covers conversation references stored before this check existed.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable
from urllib.parse import urlsplit

# Teams' Bot Connector: the public cloud (smba.trafficmanager.net/<region>/, e.g. /uk/, /emea/, /amer/, /teams/)
# and the US Government Community Cloud, whose bots authenticate as public-cloud bots do.
TEAMS_SERVICE_HOSTS = ("smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com")
# Local mode has no authentication: it talks only to this machine (the Agents Playground, tests).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServiceUrls:
    """Host patterns: `host.name` matches that host only; `*.example.org` matches any host below example.org."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(p.strip().lower().strip("[]") for p in patterns if p.strip())

    @classmethod
    def for_settings(cls, settings) -> "ServiceUrls":
        if settings.allowed_service_urls:
            return cls(sorted(settings.allowed_service_urls))
        return cls(TEAMS_SERVICE_HOSTS if settings.has_credentials else LOOPBACK_HOSTS)

    def _host_allowed(self, host: str) -> bool:
        for pattern in self.patterns:
            if pattern.startswith("*."):
                if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                    return True
            elif host == pattern:
                return True
        return False

    def problem(self, url: str) -> str | None:
        """None when the bot may send to this URL; otherwise why not, in one line."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except (ValueError, AttributeError):
            return "it is not a valid address"
        if not host or parts.username is not None or parts.password is not None:
            return "it is not a valid address"
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(host)):
            return "it is not https"
        if not self._host_allowed(host):
            return f"{host} is not an allowed service host (ALLOWED_SERVICE_URLS)"
        return None

    def allows(self, url: str) -> bool:
        return self.problem(url) is None
