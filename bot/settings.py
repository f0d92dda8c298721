"""Configuration, read once from the environment and `.env`, then passed in."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain import EXAMPLE_POLICY_PATH
from domain.times import BANK_HOLIDAY_REGIONS, Waited, bank_holidays, zone_named

IdList = Annotated[frozenset[str], NoDecode]

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def normalise_database_url(url: str) -> str:
    """Map the plain `sqlite://` and `postgresql://` forms onto the async drivers we ship."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must be a URL such as sqlite:///data/bot.db or postgresql://user@host/db")
    scheme = _ASYNC_DRIVERS.get(scheme, scheme)
    if scheme not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise ValueError(f"unsupported database '{scheme}'; use sqlite:/// or postgresql://")
    return f"{scheme}://{rest}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "app_id"))
    app_password: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppPassword", "app_password"), repr=False
    )
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = Field(
        "SingleTenant", validation_alias=AliasChoices("MicrosoftAppType", "app_type")
    )
    app_tenant_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppTenantId", "app_tenant_id"))
    app_certificate_path: Path | None = Field(
        None, validation_alias=AliasChoices("MicrosoftAppCertificatePath", "app_certificate_path")
    )

    database_url: str = Field("sqlite+aiosqlite:///data/policy-bot.db", validation_alias=AliasChoices("DATABASE_URL", "database_url"))
    # "entra": sign in to Azure Database for PostgreSQL with an Entra ID token (the bot's identity), no password.
    database_auth: Literal["url", "entra"] = Field("url", validation_alias=AliasChoices("DATABASE_AUTH", "database_auth"))
    database_token_scope: str = Field(
        "https://ossrdbms-aad.database.windows.net/.default",
        validation_alias=AliasChoices("DATABASE_TOKEN_SCOPE", "database_token_scope"),
    )
    policy_path: Path = Field(EXAMPLE_POLICY_PATH, validation_alias=AliasChoices("POLICY_PATH", "policy_path"))
    tools_path: Path | None = Field(None, validation_alias=AliasChoices("TOOLS_PATH", "tools_path"))

    org_name: str = Field("Example Borough Council", validation_alias=AliasChoices("ORG_NAME", "org_name"))
    genai_authority_name: str = Field(
        "the GenAI Governance Board", validation_alias=AliasChoices("GENAI_AUTHORITY_NAME", "genai_authority_name")
    )
    genai_authority_contact: str = Field(
        "genai-governance@example.gov.uk",
        validation_alias=AliasChoices("GENAI_AUTHORITY_CONTACT", "genai_authority_contact"),
    )

    # What Teams shows about the app (`policy-bot manifest`). The three pages have no default: a package
    # pointing staff at an invented privacy notice is refused; the manifest command checks them all.
    teams_app_website_url: str = Field("", validation_alias=AliasChoices("TEAMS_APP_WEBSITE_URL", "teams_app_website_url"))
    teams_app_privacy_url: str = Field("", validation_alias=AliasChoices("TEAMS_APP_PRIVACY_URL", "teams_app_privacy_url"))
    teams_app_terms_url: str = Field("", validation_alias=AliasChoices("TEAMS_APP_TERMS_URL", "teams_app_terms_url"))
    teams_app_short_name: str = Field("GenAI Policy", validation_alias=AliasChoices("TEAMS_APP_SHORT_NAME", "teams_app_short_name"))
    teams_app_full_name: str = Field(
        "GenAI Policy Assistant", validation_alias=AliasChoices("TEAMS_APP_FULL_NAME", "teams_app_full_name")
    )
    teams_app_short_description: str = Field(
        "Answers questions on the council's generative AI policy.",
        validation_alias=AliasChoices("TEAMS_APP_SHORT_DESCRIPTION", "teams_app_short_description"),
    )
    teams_app_full_description: str = Field(
        "Ask about the council's generative AI usage policy in your own words and get the relevant passages quoted "
        "with section numbers. Check whether an AI tool is approved, ask for a new one, report an AI incident and "
        "acknowledge the policy. The assistant quotes the policy; it does not generate answers with AI.",
        validation_alias=AliasChoices("TEAMS_APP_FULL_DESCRIPTION", "teams_app_full_description"),
    )
    teams_app_accent_color: str = Field(
        "#1F5C99", validation_alias=AliasChoices("TEAMS_APP_ACCENT_COLOR", "teams_app_accent_color")
    )

    admin_ids: IdList = Field(frozenset(), validation_alias=AliasChoices("ADMIN_IDS", "admin_ids"))
    approver_ids: IdList = Field(frozenset(), validation_alias=AliasChoices("APPROVER_IDS", "approver_ids"))
    approver_group_id: str = Field("", validation_alias=AliasChoices("APPROVER_GROUP_ID", "approver_group_id"))
    approver_cache_seconds: float = Field(
        300, ge=0, validation_alias=AliasChoices("APPROVER_CACHE_SECONDS", "approver_cache_seconds")
    )
    governance_mailbox: str = Field("", validation_alias=AliasChoices("GOVERNANCE_MAILBOX", "governance_mailbox"))
    mail_sender: str = Field("", validation_alias=AliasChoices("MAIL_SENDER", "mail_sender"))
    governance_ids: IdList = Field(frozenset(), validation_alias=AliasChoices("GOVERNANCE_IDS", "governance_ids"))
    security_ids: IdList = Field(frozenset(), validation_alias=AliasChoices("SECURITY_IDS", "security_ids"))
    dpo_ids: IdList = Field(frozenset(), validation_alias=AliasChoices("DPO_IDS", "dpo_ids"))
    allowed_tenant_ids: IdList = Field(
        frozenset(), validation_alias=AliasChoices("ALLOWED_TENANT_IDS", "allowed_tenant_ids")
    )
    # Host patterns the bot may send to (`*.example.org` for any host below). Empty: Teams' own service hosts,
    # or loopback only in local mode (see bot/service_urls.py).
    allowed_service_urls: IdList = Field(
        frozenset(), validation_alias=AliasChoices("ALLOWED_SERVICE_URLS", "allowed_service_urls")
    )

    retention_questions_days: int = Field(
        90, ge=1, validation_alias=AliasChoices("RETENTION_QUESTIONS_DAYS", "retention_questions_days")
    )
    # Six years after closure is the usual council schedule for incident and decision records.
    retention_incidents_days: int = Field(
        2190, ge=1, validation_alias=AliasChoices("RETENTION_INCIDENTS_DAYS", "retention_incidents_days")
    )
    retention_requests_days: int = Field(
        2190, ge=1, validation_alias=AliasChoices("RETENTION_REQUESTS_DAYS", "retention_requests_days")
    )
    retention_acknowledgements_days: int = Field(
        2190, ge=1, validation_alias=AliasChoices("RETENTION_ACKNOWLEDGEMENTS_DAYS", "retention_acknowledgements_days")
    )
    # Copies of messages already delivered (or given up on): only needed to diagnose delivery.
    retention_sent_messages_days: int = Field(
        30, ge=1, validation_alias=AliasChoices("RETENTION_SENT_MESSAGES_DAYS", "retention_sent_messages_days")
    )

    # Signs the audit chain (HMAC), so it can't be rebuilt by someone who can write to the database but doesn't
    # hold the key. Keep it outside the database, e.g. in a key vault.
    audit_key: str = Field("", validation_alias=AliasChoices("AUDIT_KEY", "audit_key"), repr=False)

    outbox_base_delay: float = Field(1.0, gt=0, validation_alias=AliasChoices("OUTBOX_BASE_DELAY_SECONDS", "outbox_base_delay"))
    outbox_claim_seconds: float = Field(60.0, gt=0, validation_alias=AliasChoices("OUTBOX_CLAIM_SECONDS", "outbox_claim_seconds"))
    rate_per_tenant: float = Field(50, gt=0, validation_alias=AliasChoices("RATE_PER_TENANT", "rate_per_tenant"))
    rate_per_conversation: float = Field(7, gt=0, validation_alias=AliasChoices("RATE_PER_CONVERSATION", "rate_per_conversation"))
    reminders_weekly: bool = Field(False, validation_alias=AliasChoices("REMINDERS_WEEKLY", "reminders_weekly"))
    # The organisation's time zone (IANA name): people see times in it, and the times they type are read in it.
    timezone: str = Field("Europe/London", validation_alias=AliasChoices("TIMEZONE", "timezone"))
    # Bank holidays that are not working days (domain.times.BANK_HOLIDAY_REGIONS), and the working days the governance
    # authority aims to decide a tool request in (policy 7.3; 0 for none): the approvers' list marks those past it.
    bank_holidays: Literal[tuple(BANK_HOLIDAY_REGIONS)] = Field(
        "england-and-wales", validation_alias=AliasChoices("BANK_HOLIDAYS", "bank_holidays"))
    request_target_days: int = Field(10, ge=0, le=365, validation_alias=AliasChoices("REQUEST_TARGET_DAYS",
                                                                                      "request_target_days"))
    connector_timeout: float = Field(15.0, gt=0, validation_alias=AliasChoices("CONNECTOR_TIMEOUT_SECONDS", "connector_timeout"))

    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "host"))
    port: int = Field(3978, ge=1, le=65535, validation_alias=AliasChoices("PORT", "port"))
    log_format: Literal["auto", "console", "json"] = Field(
        "auto", validation_alias=AliasChoices("LOG_FORMAT", "log_format")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=AliasChoices("LOG_LEVEL", "log_level")
    )
    max_body_bytes: int = Field(256 * 1024, validation_alias=AliasChoices("MAX_BODY_BYTES", "max_body_bytes"))
    # Microsoft Graph and Entra ID endpoints: the public cloud unless a sovereign cloud (or a test) says otherwise.
    graph_url: str = Field("https://graph.microsoft.com", validation_alias=AliasChoices("GRAPH_URL", "graph_url"))
    authority_host: str = Field(
        "https://login.microsoftonline.com", validation_alias=AliasChoices("AZURE_AUTHORITY_HOST", "authority_host")
    )
    # Extra certificate authorities for outbound HTTPS, e.g. a council's TLS-inspecting proxy.
    ca_bundle: Path | None = Field(None, validation_alias=AliasChoices("CA_BUNDLE", "ca_bundle"))
    # Where the Bot Framework token validator finds its OpenID metadata; tests point it at loopback.
    openid_metadata_url: str = Field(
        "", validation_alias=AliasChoices("BOT_OPENID_METADATA", "openid_metadata_url")
    )

    # Telemetry (bot/telemetry.py): off unless one of these is set.
    otlp_endpoint: str = Field("", validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"))
    appinsights_connection_string: str = Field(
        "", repr=False,
        validation_alias=AliasChoices("APPLICATIONINSIGHTS_CONNECTION_STRING", "appinsights_connection_string"),
    )
    metrics_port: int = Field(0, ge=0, le=65535, validation_alias=AliasChoices("METRICS_PORT", "metrics_port"))
    telemetry_refresh_seconds: float = Field(
        15.0, gt=0, validation_alias=AliasChoices("TELEMETRY_REFRESH_SECONDS", "telemetry_refresh_seconds")
    )

    @field_validator("admin_ids", "approver_ids", "governance_ids", "security_ids", "dpo_ids", "allowed_tenant_ids",
                     "allowed_service_urls", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return zone_named(value).key

    @field_validator("audit_key")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters, for example from `openssl rand -hex 32`")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("ca_bundle", "app_certificate_path")
    @classmethod
    def _file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no certificate file at {value}")
        return value

    @field_validator("graph_url", "authority_host")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// address")
        return value.rstrip("/")

    @field_validator("policy_path")
    @classmethod
    def _policy_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no policy file at {value}")
        return value

    @model_validator(mode="after")
    def _credentials_complete(self) -> "Settings":
        if self.app_id and self.app_type != "UserAssignedMSI":
            if not (self.app_password or self.app_certificate_path):
                raise ValueError(
                    "MicrosoftAppPassword (or MicrosoftAppCertificatePath) is needed when MicrosoftAppId is set"
                )
        if self.app_id and self.app_type == "SingleTenant" and not self.app_tenant_id:
            raise ValueError("MicrosoftAppTenantId is needed for a SingleTenant bot")
        if self.database_auth == "entra" and not self.database_url.startswith("postgresql"):
            raise ValueError("DATABASE_AUTH=entra signs in to PostgreSQL with an Entra ID token; DATABASE_URL must be postgresql://")
        if bool(self.governance_mailbox) != bool(self.mail_sender):
            raise ValueError("GOVERNANCE_MAILBOX and MAIL_SENDER go together: where to send email, and the mailbox to send it from")
        if self.governance_mailbox and (not self.app_id or (self.app_type != "UserAssignedMSI" and not self.app_tenant_id)):
            raise ValueError("GOVERNANCE_MAILBOX needs the bot's credentials (MicrosoftAppId) and MicrosoftAppTenantId "
                             "to send email through Microsoft Graph")
        if self.approver_group_id:
            if not self.app_id:
                raise ValueError("APPROVER_GROUP_ID needs the bot's credentials (MicrosoftAppId) to ask Microsoft Graph "
                                 "who is in the group; without them use APPROVER_IDS")
            if self.app_type != "UserAssignedMSI" and not self.app_tenant_id:
                raise ValueError("APPROVER_GROUP_ID needs MicrosoftAppTenantId, the council's tenant, to ask Microsoft Graph")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone: times are shown to people in it, and typed times read in it."""
        return ZoneInfo(self.timezone)

    def waited_as_of(self, now: datetime) -> Waited:
        """How long things have waited at `now`: working days less BANK_HOLIDAYS (from two years before `now` to the
        year after: enough for anything still waiting), and REQUEST_TARGET_DAYS."""
        return Waited(now, bank_holidays(self.bank_holidays, now.year - 2, now.year + 1), self.request_target_days)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def audit_key_bytes(self) -> bytes | None:
        return self.audit_key.encode() if self.audit_key else None

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id)

    def host_is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one plain line for the operator."""


_ENV_NAMES = {
    "app_id": "MicrosoftAppId",
    "app_password": "MicrosoftAppPassword",
    "app_type": "MicrosoftAppType",
    "app_tenant_id": "MicrosoftAppTenantId",
    "app_certificate_path": "MicrosoftAppCertificatePath",
    "openid_metadata_url": "BOT_OPENID_METADATA",
}


def env_name(field: str) -> str:
    return _ENV_NAMES.get(field, field.upper())


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into one line that names the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = env_name(str(error["loc"][0])) if error.get("loc") else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error.get("loc"):
            raise SettingsError(f"Setting {where}: {message}") from None
        raise SettingsError(f"Configuration: {message}") from None
