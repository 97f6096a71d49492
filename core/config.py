"""Every setting in one place, read from the environment (prefix GATEHOUSE_) and an optional .env file."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, TypeAdapter, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain import Classification, ClassificationRule, GatehouseError

DEFAULT_COOKIE_KEY = "gatehouse-local-only-cookie-key-not-for-production"
# The cookie key signs sign-in cookies (JWT, HS256): a short one is guessed offline from any cookie, and then
# anyone's cookie can be forged.
MIN_COOKIE_KEY_LENGTH = 32
MIN_SCIM_TOKEN_LENGTH = 32  # a bearer token: as long as the cookie key, for the same reason
MAKE_A_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


# A preview parses a file anyone with write access put in a source, for whoever opens it (an admin, a reviewer):
# the file may be built to make the parser work without end. These bounds hold whatever it holds (issue 24).
# Refused from the file's own metadata before parsing: wider than this many columns (a table shows ~10 at once, and
# 1,000 columns x 1,000 rows is already a million cells to send to a browser).
MAX_PREVIEW_COLUMNS = 1_000
MAX_PREVIEW_CELL_CHARS = 1_000  # longer text is cut: a cell shows a few dozen characters, a long one is for reading
# An Excel file is a zip: what its members unpack to, as the zip declares it (Python's zipfile never unpacks more).
# A workbook at the 10 MiB download limit of a preview unpacks to 50-100 MiB of XML (XML compresses 5-10 times).
EXCEL_UNPACKED_MIB = 256
# openpyxl reads every shared string before the first row: about 20 microseconds each (2 million took 42 s on a
# busy 2-core machine), so 200,000 is about 4 s, inside the CPU bound below.
MAX_SHARED_STRINGS = 200_000
# What the first row group of a Parquet file unpacks to for the rows shown, from its total_uncompressed_size per row:
# a few MiB for ordinary data; 256 MiB is half the worker's memory, leaving room for the pandas copy.
PARQUET_UNPACKED_MIB = 256
MiB = 1024 * 1024
PREVIEW_INSTEAD = "read it with code instead (see Read this data)"  # what a refused preview offers
# What slips through is stopped by the process the parsing runs in (core/preview_worker.py). A normal preview parses
# in 10-60 ms (a 200-row workbook, the demo's CSV and Parquet); 10 s of CPU is two orders of magnitude above that and
# below a person's patience, and the wall clock adds 5 s for the ranged reads of a Parquet file.
PREVIEW_CPU_SECONDS = 10
PREVIEW_SECONDS = 15
# Memory the worker may add to what it starts with (pandas, pyarrow and openpyxl mapped: ~380 MiB of address space):
# the 32 MiB a Parquet preview may fetch, unpacked at ordinary ratios (up to 8 times), plus the DataFrame built from it.
PREVIEW_MEMORY_MIB = 512
PREVIEW_RESULT_MIB = 64  # the rows sent back to the page: a million cells of ~60 bytes
PREVIEW_WORKERS = 4  # previews parsing at once, at most PREVIEW_MEMORY_MIB each; a fifth waits for a free one


class ConfigurationError(GatehouseError):
    """A setting is missing or wrong; nothing was started."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEHOUSE_", env_file=".env", extra="ignore")

    # Where state lives. Default: a SQLite file under data_dir; production: postgresql+psycopg://...
    data_dir: Path = Path(".gatehouse")
    database_url: str | None = None
    # Production: migrations run at start through this URL, a role that owns the tables, while database_url is a role
    # that may only add to (and read) the audit trail, so the app can neither empty it nor switch its triggers off.
    migration_database_url: str | None = None

    # local = moto's server on loopback, started on demand and seeded; aws = the standard boto3 credential chain.
    aws_mode: Literal["local", "aws"] = "local"
    # Honoured in aws mode (boto3 also reads it itself); lets Gatehouse talk to any S3/IAM-compatible endpoint.
    aws_endpoint_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GATEHOUSE_AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL")
    )
    local_aws_host: str = "127.0.0.1"
    local_aws_port: int = 5055

    env: str = "alpha"  # bucket-name prefix (alpha-) and role-name prefix (alpha_user_)
    region: str = "eu-west-1"

    # How people sign in: password (the accounts' bcrypt hashes, streamlit-authenticator) or oidc (the organisation's
    # identity provider through Streamlit's st.login, configured in the [auth] section of .streamlit/secrets.toml).
    # Default: password in local mode; required in aws mode.
    sign_in: Literal["password", "oidc"] | None = None
    # The claim of the identity provider's ID token that links an identity to a platform member at its first
    # sign-in: a value holding an @ is matched to a member's email, any other to their username (preferred_username,
    # nickname for Auth0 in front of GitHub, email — only when email_verified is true —, upn, ...). From then on the
    # member is found by the token's (iss, sub) alone.
    oidc_username_claim: str = Field(default="preferred_username", min_length=1, max_length=64)
    # When set, membership of the platform team follows this group in the ID token's groups claim at every sign-in.
    oidc_platform_group: str | None = None
    oidc_groups_claim: str = Field(default="groups", min_length=1, max_length=64)
    # Streamlit keeps the ID token's claims in its identity cookie for 30 days: groups claims issued (iat) longer ago
    # than this do not make anyone platform team; they sign in again at the provider for fresh ones.
    oidc_groups_max_age_minutes: int = Field(default=60, ge=1, le=43_200)

    cookie_key: SecretStr = SecretStr(DEFAULT_COOKIE_KEY)
    cookie_expiry_days: float = 1.0
    # Password sign-in throttle (core/auth.py): past this many failures from one client (or, for one account, from
    # this many different clients) within the window, each attempt waits twice as long as the last, up to the window.
    max_failed_sign_ins: int = Field(default=5, ge=1, le=1000)
    sign_in_throttle_minutes: int = Field(default=15, ge=1, le=1440)
    # Behind a load balancer or reverse proxy every request comes from it: the client is then the last address of
    # the X-Forwarded-For header (what the proxy saw; earlier ones are the client's own say).
    behind_proxy: bool = False

    # IAM: roles created for users who lack one get this trust policy (JSON); default trusts the account itself.
    role_trust_policy: str | None = None
    managed_policy_quota: int = 10  # customer-managed policies attachable to one role (AWS default 10, max 20)
    # A change that reaches more roles than this (a large team's first grant or last revoke) applies the team's
    # policies and this many roles before answering, the rest on a background thread (pending, then applied).
    roles_in_answer: int = Field(default=50, ge=1, le=100_000)
    logs_bucket: str | None = None  # access logging target for buckets Gatehouse creates
    intelligent_tiering: bool = True
    # Versioning keeps every overwritten or deleted object as a noncurrent version: the platform's undo, kept this
    # many days, so that keeping history has a known cost.
    noncurrent_version_days: int = Field(default=90, ge=1, le=36_500)
    # Deny non-TLS requests in each bucket's policy. Default on against AWS; off for the local emulation, which
    # speaks plain HTTP on loopback (and whose evaluator treats any conditional Deny as always denying).
    tls_only_buckets: bool | None = None

    # Notifications are always in the in-app inbox; with an SMTP host they are emailed too.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str = "gatehouse@localhost"
    # The app's public address: links in emails, and the one-time link that sets a joiner's password.
    app_url: str = "http://127.0.0.1:8501"
    # How long a joiner's one-time link that sets their password stays usable (password sign-in).
    sign_in_link_hours: int = Field(default=72, ge=1, le=720)

    expiry_warning_days: int = 7  # holders and admins are told this many days before access ends
    # Access reviews (issue #17): Gatehouse starts one for every source nobody has reviewed for this many days, and
    # at a due date handles grants nobody reviewed as this says: flag them (overdue) or revoke them.
    review_every_days: int = Field(default=180, ge=1, le=3660)
    review_unreviewed: Literal["flag", "revoke"] = "flag"

    # Personal data (issue #29): access to a source holding it always ends, at most this many days away.
    personal_max_days: int = Field(default=365, ge=1, le=3660)
    # A request nobody decided (nor answered) for this many days closes; the requester and its deciders are told.
    request_max_age_days: int = Field(default=14, ge=1, le=3660)
    # A download from a personal-data source, once its information asset owner signed the form, is available this
    # long (hours).
    signed_download_hours: int = Field(default=24, ge=1, le=720)
    # Each classification's rules (JSON, by name), over the defaults `classification_rules` shows: e.g.
    # {"personal": {"iao_approves": "always"}}.
    classification_overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)

    # Sources a member (not the platform team) may create in an hour: a burst of buckets is refused past it.
    max_sources_per_member: int = Field(default=5, ge=1, le=1000)

    seed_demo: bool | None = None  # default: seed demo data in local mode only

    # SCIM provisioning (`gatehouse serve`): a bearer token for automation, kept at each start as the token named
    # GATEHOUSE_SCIM_TOKEN (the platform team makes others with `gatehouse scim token create NAME`).
    scim_token: SecretStr | None = None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.aws_mode == "aws":
            self._refuse_guessable_secrets()
        if self.scim_token is not None and len(self.scim_token.get_secret_value()) < MIN_SCIM_TOKEN_LENGTH:
            raise ValueError(
                f"GATEHOUSE_SCIM_TOKEN must be at least {MIN_SCIM_TOKEN_LENGTH} characters long: make one with "
                f"{MAKE_A_KEY}."
            )
        try:
            self.classification_rules  # noqa: B018 (read once, to refuse a bad override at start)
        except (ValueError, ValidationError):
            names = ", ".join(c.value for c in Classification)
            raise ValueError(
                f"GATEHOUSE_CLASSIFICATION_OVERRIDES must name classifications ({names}) and the rules of "
                "ClassificationRule (end_required, max_days, iao_approves, paths_required, signoff_to_leave)."
            ) from None
        if self.role_trust_policy:
            try:
                json.loads(self.role_trust_policy)
            except ValueError as error:
                raise ValueError(f"GATEHOUSE_ROLE_TRUST_POLICY is not valid JSON: {error}") from None
        return self

    def _refuse_guessable_secrets(self) -> None:
        """Against real AWS, no secret may be a default, empty or short enough to guess, and the way people sign in is
        chosen, not assumed."""
        cookie_key = self.cookie_key.get_secret_value()
        signs_cookies = self.sign_in != "oidc"  # with oidc, Streamlit's [auth] cookie_secret signs the sign-in
        if signs_cookies and (cookie_key == DEFAULT_COOKIE_KEY or len(cookie_key) < MIN_COOKIE_KEY_LENGTH):
            raise ValueError(
                f"GATEHOUSE_COOKIE_KEY must be set to a secret of your own, at least {MIN_COOKIE_KEY_LENGTH} "
                f"characters long, when GATEHOUSE_AWS_MODE=aws: make one with {MAKE_A_KEY}."
            )
        if self.smtp_username and not (self.smtp_password and self.smtp_password.get_secret_value()):
            raise ValueError(
                "GATEHOUSE_SMTP_PASSWORD must be set when GATEHOUSE_SMTP_USERNAME is and GATEHOUSE_AWS_MODE=aws."
            )
        if self.seed_demo:
            raise ValueError(
                "GATEHOUSE_SEED_DEMO must be off when GATEHOUSE_AWS_MODE=aws: the demo accounts' password is published."
            )
        if self.sign_in is None:
            raise ValueError(
                "GATEHOUSE_SIGN_IN must be set when GATEHOUSE_AWS_MODE=aws: password (Gatehouse's own accounts) or "
                "oidc (your identity provider, configured in .streamlit/secrets.toml)."
            )

    @cached_property
    def classification_rules(self) -> dict[Classification, ClassificationRule]:
        """What each classification asks of access to a source (shown in the request form before sending)."""
        personal = ClassificationRule(
            end_required=True, max_days=self.personal_max_days, iao_approves="whole-source", signoff_to_leave=True
        )
        rules = {
            Classification.STANDARD: ClassificationRule(),
            Classification.PERSONAL: personal,
            Classification.SPECIAL_CATEGORY: replace(personal, paths_required=True, iao_approves="always"),
        }
        for name, override in self.classification_overrides.items():
            kind = Classification(name)
            if set(override) - {f.name for f in fields(ClassificationRule)}:
                raise ValueError(f"{name}: unknown rule")
            rules[kind] = TypeAdapter(ClassificationRule).validate_python(asdict(rules[kind]) | override)
        return rules

    @property
    def sign_in_method(self) -> Literal["password", "oidc"]:
        return self.sign_in or "password"

    @property
    def bucket_prefix(self) -> str:
        return f"{self.env}-"

    @cached_property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'gatehouse.db'}"

    @property
    def migration_db_url(self) -> str:
        return self.migration_database_url or self.db_url

    @property
    def local_aws_endpoint(self) -> str:
        return f"http://{self.local_aws_host}:{self.local_aws_port}"

    @property
    def endpoint_url(self) -> str | None:
        """The endpoint boto3 clients talk to: the emulation in local mode, else AWS_ENDPOINT_URL or AWS itself."""
        return self.local_aws_endpoint if self.aws_mode == "local" else self.aws_endpoint_url

    @property
    def deny_insecure_transport(self) -> bool:
        return self.aws_mode == "aws" if self.tls_only_buckets is None else self.tls_only_buckets

    @property
    def should_seed_demo(self) -> bool:
        return self.aws_mode == "local" if self.seed_demo is None else self.seed_demo


def load_settings(**values: Any) -> Settings:
    """The settings from the environment (and `values`); a bad one is one sentence naming it, which the app and
    the CLI show as they show any GatehouseError, instead of pydantic's multi-line report."""
    try:
        return Settings(**values)
    except ValidationError as error:
        raise ConfigurationError(describe(error)) from None


def describe(error: ValidationError) -> str:
    """The first problem as one sentence; pydantic's messages never hold the value, so no secret is echoed."""
    first = error.errors(include_url=False)[0]
    message = " ".join(first["msg"].removeprefix("Value error, ").split())  # one line, whatever pydantic said
    if not first["loc"]:  # raised by a model validator: already a sentence naming the setting
        return message
    name = str(first["loc"][0])
    variable = name if name.isupper() else f"GATEHOUSE_{name.upper()}"  # aliases are already variable names
    return f"{variable} is not valid: {message.rstrip('.')}."
