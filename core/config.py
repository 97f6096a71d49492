"""Every setting in one place, read from the environment (prefix GATEHOUSE_) and an optional .env file."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain import GatehouseError

DEFAULT_COOKIE_KEY = "gatehouse-local-only-cookie-key-not-for-production"
# The cookie key signs sign-in cookies (JWT, HS256): a short one is guessed offline from any cookie, and then
# anyone's cookie can be forged.
MIN_COOKIE_KEY_LENGTH = 32
MAKE_A_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


class ConfigurationError(GatehouseError):
    """A setting is missing or wrong; nothing was started."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEHOUSE_", env_file=".env", extra="ignore")

    # Where state lives. Default: a SQLite file under data_dir; production: postgresql+psycopg://...
    data_dir: Path = Path(".gatehouse")
    database_url: str | None = None

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
    # The claim of the identity provider's ID token that names the platform member: a value holding an @ is matched
    # to a member's email, any other to their username (preferred_username, nickname for Auth0 in front of GitHub,
    # email, upn, ...).
    oidc_username_claim: str = Field(default="preferred_username", min_length=1, max_length=64)
    # When set, membership of the platform team follows this group in the ID token's groups claim at every sign-in.
    oidc_platform_group: str | None = None
    oidc_groups_claim: str = Field(default="groups", min_length=1, max_length=64)

    cookie_key: SecretStr = SecretStr(DEFAULT_COOKIE_KEY)
    cookie_expiry_days: float = 1.0
    max_failed_sign_ins: int = 5
    sign_in_lockout_minutes: int = 15

    # IAM: roles created for users who lack one get this trust policy (JSON); default trusts the account itself.
    role_trust_policy: str | None = None
    managed_policy_quota: int = 10  # customer-managed policies attachable to one role (AWS default 10, max 20)
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
    app_url: str = "http://127.0.0.1:8501"  # links in emails

    expiry_warning_days: int = 7  # holders and admins are told this many days before access ends
    # Access reviews (issue #17): Gatehouse starts one for every source nobody has reviewed for this many days, and
    # at a due date handles grants nobody reviewed as this says: flag them (overdue) or revoke them.
    review_every_days: int = Field(default=180, ge=1, le=3660)
    review_unreviewed: Literal["flag", "revoke"] = "flag"

    # Sources a member (not the platform team) may create in an hour: a burst of buckets is refused past it.
    max_sources_per_member: int = Field(default=5, ge=1, le=1000)

    seed_demo: bool | None = None  # default: seed demo data in local mode only

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.aws_mode == "aws":
            self._refuse_guessable_secrets()
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
