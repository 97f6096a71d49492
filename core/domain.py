"""The words of the product (levels, kinds, statuses, errors) and how typed input is checked: names, paths, free
text. No I/O here; the rules that use these words are in core/rules/."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal


class GatehouseError(Exception):
    """An error a person caused or must act on; its message is one clear sentence for the UI or CLI."""


class InvalidInput(GatehouseError):
    """Something typed into a form or the CLI breaks a rule; nothing was changed."""


class InvalidFields(InvalidInput):
    """Several fields of one form refused together, each with its own sentence by the field's name: a page shows
    each beside its field, all at once; the CLI reads them one after another."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


@dataclass
class FieldChecks:
    """Check a form's fields one by one and refuse what is wrong in all of them at once:
    `with checks.on("paths"): ...` for each, then `checks.enforce()`."""

    problems: dict[str, str] = field(default_factory=dict)

    def on(self, name: str) -> _FieldCheck:
        return _FieldCheck(self.problems, name)

    def enforce(self) -> None:
        if self.problems:
            raise InvalidFields(dict(self.problems))


@dataclass
class _FieldCheck:
    """A check of one field: what it refuses (InvalidInput) is kept by the field's name, and the checks go on."""

    problems: dict[str, str]
    name: str

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, InvalidFields):
            self.problems |= error.problems
        elif isinstance(error, InvalidInput):
            self.problems.setdefault(self.name, str(error))
        return isinstance(error, InvalidInput)


class NotAllowed(GatehouseError):
    """The actor has no right to do this."""


class NotFound(GatehouseError):
    """A named thing (user, source, request) does not exist."""


class AccessLevel(StrEnum):
    READ_ONLY = "read-only"
    READ_WRITE = "read-write"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"read-only": "Read only", "read-write": "Read/write", "admin": "Admin"}[self.value]

    @property
    def rank(self) -> int:
        return {"read-only": 1, "read-write": 2, "admin": 3}[self.value]

    @property
    def can_write(self) -> bool:
        return self is not AccessLevel.READ_ONLY


class SourceKind(StrEnum):
    WAREHOUSE = "warehouse"
    WEBAPP = "webapp"

    @property
    def label(self) -> str:
        return {"warehouse": "Warehouse", "webapp": "Webapp"}[self.value]


class UserStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"


class RequestStatus(StrEnum):
    PENDING_ADMIN = "pending-admin"  # waiting for an active admin of the source
    PENDING_LINE_MANAGER = "pending-line-manager"  # orphaned source: the requester's line manager confirms first
    PENDING_PLATFORM = "pending-platform"  # orphaned source: the platform team grants
    # personal data (issue #29): an admin approved; the source's information asset owner approves (or less) or refuses
    PENDING_IAO = "pending-iao"
    # a decider asked the requester a question: the request waits for the answer, then returns to where it stood
    PENDING_ANSWER = "pending-answer"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"  # undecided for GATEHOUSE_REQUEST_MAX_AGE_DAYS: closed, the requester and deciders told

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset(
    {
        RequestStatus.PENDING_ADMIN,
        RequestStatus.PENDING_LINE_MANAGER,
        RequestStatus.PENDING_PLATFORM,
        RequestStatus.PENDING_IAO,
        RequestStatus.PENDING_ANSWER,
    }
)


class Classification(StrEnum):
    """Whether a source holds personal data (issue #29); the rules of each are `config.ClassificationRule`s."""

    STANDARD = "standard"
    PERSONAL = "personal"  # personal data: an information asset owner, their approval, their sign-off to leave
    SPECIAL_CATEGORY = "special-category"  # health, ethnicity, beliefs… (UK GDPR art. 9): paths required besides

    @property
    def label(self) -> str:
        return {"standard": "Standard", "personal": "Personal data", "special-category": "Special category data"}[
            self.value
        ]

    @property
    def is_personal(self) -> bool:
        return self is not Classification.STANDARD


@dataclass(frozen=True)
class ClassificationRule:
    """What one classification asks of access to its sources (issue #29); `Settings.classification_rules` has each."""

    end_required: bool = False  # access always ends: a request or grant names an end date
    max_days: int | None = None  # … at most this many days away
    # when the information asset owner approves after the admin: never, for whole-source grants, or always
    iao_approves: Literal["never", "whole-source", "always"] = "never"
    paths_required: bool = False  # access is to named paths, never the whole source
    signoff_to_leave: bool = False  # data leaves only once the information asset owner signed its movement form


class SyncState(StrEnum):
    PENDING = "pending"  # the database changed; AWS not yet written
    APPLIED = "applied"
    FAILED = "failed"  # the last AWS call failed: retried at the next apply, start or reconcile


class MovementKind(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    COPY = "copy"
    MOVE = "move"
    RESTORE = "restore"  # a restore's form, asked for until a restore needed none (issue #25): kept on record


# --- dates and times ---------------------------------------------------------------------------------

# One way to write a day (30 Jun 2027) and a moment (30 Jun 2027 14:05 UTC) wherever a person reads one: pages,
# messages, emails, the audit trail's summaries and the CLI's sentences. What machines read (CSV, JSON, the audit
# chain, the CLI's --until) stays ISO 8601. English month names whatever the process's locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day(value: date) -> str:
    """A day as people read it: 30 Jun 2027."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime, *, seconds: bool = False) -> str:
    """A moment as people read it, in UTC (a time without a zone is UTC here): 30 Jun 2027 14:05 UTC."""
    return f"{day(_utc(value))} {clock(value, seconds=seconds)}"


def clock(value: datetime, *, seconds: bool = False) -> str:
    """The time of day of a moment (today's, or beside its day): 14:05 UTC."""
    return f"{_utc(value):%H:%M:%S} UTC" if seconds else f"{_utc(value):%H:%M} UTC"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value


# --- counts ------------------------------------------------------------------------------------------


def plural(count: int, noun: str, many: str | None = None) -> str:
    """A count and its noun in agreement, wherever a count is shown: 1 event, 2 events, 1,000 people (`many` when
    the plural is not the noun and an s)."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


# --- free text --------------------------------------------------------------------------------------

# How much a person may type, said once here: the actions check it (`check_text`, `Paths.parse`) and the forms
# show it (a field's `max_chars`, and its help). A business need and a reason are read by people deciding,
# not stored documents; a path list is bounded by what one role's policy can hold.
MAX_BUSINESS_NEED = 2_000  # characters
MAX_REASON = 1_000  # characters: refusing a request or a webapp source, a review's change or revoke
MAX_QUESTION = 1_000  # characters: a decider's question to a requester, and the answer (issue #29)
MAX_DESCRIPTION = 500  # characters: what a new data source holds
MAX_PATHS = 50  # paths in one list
MAX_PATH_BYTES = 512  # each path, in UTF-8: half of S3's 1,024-byte key, leaving room for the names under it
MAX_PATHS_TEXT = MAX_PATHS * (MAX_PATH_BYTES + 1)  # the paths field: every path on a line of its own
# An end date lies at most this many days ahead (two years): further is a slip of the keyboard (9999-12-31), and
# access that should not end is asked for as such, with no end date, where reviews look at it again.
MAX_END_DAYS = 731

# Control characters (C0 and C1, but tab and newline) have no place in anything a person types here; PostgreSQL
# refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates reorder the text around them: `ok\u202evsc.exe` shows as
# "okexe.csv". No name or path needs them.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_HIDDEN = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")


def visible(text: str) -> str:
    """Text as it is, but each control or bidirectional-override character named instead (⟨U+202E⟩): what is
    shown is what is there."""
    return _HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def shown(text: str, limit: int = 80) -> str:
    """Typed text echoed in an error: one line, bounded, control characters made visible."""
    flat = visible(text.replace("\n", " ").replace("\t", " ")).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plain(text: str, limit: int = 80) -> str:
    """Text from outside (a claim, a typed name) in a sentence or the audit trail: one line, bounded, and every
    character that is not printable ASCII named (⟨U+200B⟩), spaces at either end too, so that `da\u200bve` or
    `dave ` never reads as dave."""
    flat = "".join(c if c.isascii() and c.isprintable() else f"⟨U+{ord(c):04X}⟩" for c in text)
    flat = re.sub(r"^ +| +$", lambda spaces: "⟨U+0020⟩" * len(spaces.group()), flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def check_text(text: str, what: str, max_length: int, *, multiline: bool = True) -> str:
    """Free text a person typed (a business need, a reason): returned stripped, or one clear sentence."""
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\t" in text)):
        raise InvalidInput(f"The {what} holds a control character: remove it.")
    if any(c in BIDI_CONTROLS for c in text):
        raise InvalidInput(f"The {what} holds a text-direction override, which changes how the text reads: remove it.")
    text = text.strip()
    if len(text) > max_length:
        raise InvalidInput(
            f"The {what} is {plural(len(text), 'character')} long: keep it to {plural(max_length, 'character')} "
            "at most."
        )
    return text


def is_clean_name(name: str, max_length: int) -> bool:
    """Whether a typed name could name anything at all (used before looking it up)."""
    return 0 < len(name.strip()) <= max_length and not _CONTROL.search(name) and "\n" not in name


# --- paths -------------------------------------------------------------------------------------------

# `*`, `?` and `${` mean something in an IAM ARN or condition: a path holding them would widen access. Brackets,
# `!`, `<` and `>` are what Markdown links, images and HTML are made of, and no data path needs them.
_PATH_FORBIDDEN = re.compile(f"[][*?${{}}\\\\()!<>\\x00-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")


def path_covers(outer: str, inner: str) -> bool:
    """Whether a path (or "" for the whole bucket) covers another: `/a` covers `/a` and `/a/b`, never `/ab`."""
    return outer == "" or inner == outer or inner.startswith(outer + "/")


def validate_path(path: str, line_number: int | None = None, typed: str | None = None) -> str:
    """One path, checked; `typed` is the line as the person typed it (an S3 address), said in a refusal."""
    as_typed = shown(typed if typed is not None else path, 40)
    where = f"Line {line_number} ({as_typed})" if line_number else f"The path {as_typed}"
    if not path.startswith("/"):
        raise InvalidInput(f"{where} must start with /, for example /{shown(path.strip('/'), 40)}.")
    if path.strip("/") == "":
        raise InvalidInput(f"{where} is the whole bucket: leave the paths field empty instead.")
    path = path.rstrip("/")  # a folder written as /models/ is the folder /models
    if "//" in path:
        raise InvalidInput(f"{where} has an empty folder name (//).")
    if forbidden := _PATH_FORBIDDEN.search(path):
        char = forbidden.group()
        named = char if char.isprintable() and char not in BIDI_CONTROLS else f"U+{ord(char):04X}"
        raise InvalidInput(
            f"{where} holds {named}: a path may not hold * ? $ {{ }} [ ] ( ) ! < > \\, a control character or a "
            "text-direction override."
        )
    if any(part in (".", "..") for part in path.split("/")):
        raise InvalidInput(f"{where} must not contain . or .. as a folder name.")
    if len(path.encode()) > MAX_PATH_BYTES:
        raise InvalidInput(
            f"{where} is {plural(len(path.encode()), 'byte')} long: a path may be {MAX_PATH_BYTES} bytes at most."
        )
    return path


def format_paths(paths: Iterable[str]) -> str:
    """A path list as a person reads it: `/a, /b`, or "whole bucket" (`paths.Paths` shows itself so)."""
    paths = list(paths)
    return ", ".join(paths) if paths else "whole bucket"


# --- bucket names ------------------------------------------------------------------------------------

_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def validate_bucket_name(name: str, prefix: str) -> str:
    """S3's bucket naming rules plus the platform prefix; returns the name or raises one sentence that says all that
    is wrong with it (capitals, an underscore, the length, dots, the prefix) and a name that would do."""
    name = name.strip()
    if not name:
        raise InvalidInput("Enter a name for the data source.")
    if not is_clean_name(name, 200):
        raise InvalidInput("The name may hold only lower-case letters, digits, hyphens and dots.")
    if name == prefix:
        raise InvalidInput(f"Add a name after the prefix {prefix}.")
    wrong = _bucket_name_problems(name, prefix)
    if not wrong:
        return name
    if len(wrong) > 3:  # one sentence a person reads: the first three, and that there is more
        wrong = [*wrong[:3], "more besides"]
    said = wrong[0] if len(wrong) == 1 else ", ".join(wrong[:-1]) + " and " + wrong[-1]
    fixed = _bucket_name_like(name, prefix)
    like = f"; {fixed} would do" if fixed and not _bucket_name_problems(fixed, prefix) else ""
    raise InvalidInput(f"{shown(name, 40)} cannot name a data source: it {said}{like}.")


def _bucket_name_problems(name: str, prefix: str) -> list[str]:
    wrong = []
    if name != name.lower():
        wrong.append("has capital letters (names are in lower case)")
    if "_" in name:
        wrong.append("has an underscore (use a hyphen)")
    if " " in name:
        wrong.append("has a space (use a hyphen)")
    others = sorted({c for c in name.lower() if not (c.isascii() and (c.isalnum() or c in "-._ "))})
    if others:
        wrong.append(f"has {' '.join(shown(c, 8) for c in others[:5])} (only letters, digits, hyphens and dots)")
    if not name.startswith(prefix):
        wrong.append(f"must start with {prefix}")
    if not 3 <= len(name) <= 63:
        wrong.append(f"is {plural(len(name), 'character')} long (3 to 63 characters)")
    if not (name[0].isalnum() and name[-1].isalnum()):
        wrong.append("must start and end with a letter or digit")
    if ".." in name or ".-" in name or "-." in name:
        wrong.append("has two dots in a row, or a dot beside a hyphen")
    if _IP_ADDRESS.match(name):
        wrong.append("looks like an IP address")
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", "--x-s3", ".mrap")
    ):
        wrong.append("uses a prefix or suffix that S3 reserves")
    if not wrong and not _BUCKET_CHARS.match(name):
        wrong.append("may hold only lower-case letters, digits, hyphens and dots")
    return wrong


def _bucket_name_like(name: str, prefix: str) -> str:
    """The name made valid where that is plain: lower case, hyphens for underscores and spaces, the prefix."""
    body = re.sub(r"[^a-z0-9.-]+", "-", name.lower().replace("_", "-").replace(" ", "-"))
    body = re.sub(r"-{2,}", "-", body).strip("-.")
    if not body.startswith(prefix):
        body = prefix + body.removeprefix(prefix.rstrip("-")).lstrip("-")
    return body[:63].rstrip("-.")


# --- users -------------------------------------------------------------------------------------------

_USERNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,37}[a-z0-9])?$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _not_as_typed(text: str, what: str) -> str | None:
    """Why a name is refused rather than cleaned, or None: spaces around it, or a character that is not plain ASCII
    (invisible ones, look-alikes, anything NFKC normalisation or case folding would change: `da\u200bve`,
    `\ufeffdave` and `\u212aate` would otherwise become dave and kate)."""
    if text != text.strip():
        return f"{plain(text, 40)!r} is not a valid {what}: it has spaces around it."
    odd = next((c for c in text if not c.isascii() or not c.isprintable()), None)
    if odd is not None:
        return f"{plain(text, 60)!r} is not a valid {what}: U+{ord(odd):04X} is not a plain letter, digit or sign."
    return None


def validate_username(username: str) -> str:
    """The one rule for a username wherever one enters (forms, the CLI, password sign-in, the identity provider's
    claims): GitHub-style, letters, digits and single hyphens, at most 39 characters. Plain ASCII capitals are
    folded to lower case (unambiguous); anything else a normalisation would change is refused, never cleaned, so
    what is stored and matched is what was typed."""
    if problem := _not_as_typed(username, "username"):
        raise InvalidInput(problem)
    name = username.lower()
    if not _USERNAME.match(name) or "--" in name:
        raise InvalidInput(
            f"{shown(username, 40)!r} is not a valid username: use letters, digits and single hyphens, "
            "at most 39 characters."
        )
    return name


def validate_email(email: str) -> str:
    """An email address by the same rule as a username (nothing cleaned, plain ASCII only); returned as given."""
    if problem := _not_as_typed(email, "email address"):
        raise InvalidInput(problem)
    if len(email) > 254 or not EMAIL.match(email):
        raise InvalidInput(f"{shown(email, 40)!r} is not an email address.")
    return email


def user_role_name(env: str, username: str) -> str:
    return f"{env}_user_{username.lower()}"


def app_role_name(env: str, app_name: str) -> str:
    return f"{env}_app_{app_name.lower()}"


def console_url(bucket: str, region: str, folder: str = "") -> str:
    """The S3 console's page of a bucket, or of a folder in it (a path `/p/q` or a prefix `p/q/`); a folder's name is
    quoted, whatever S3 holds."""
    folder = folder.strip("/")
    query = {"region": region, "tab": "objects"} | ({"prefix": f"{folder}/"} if folder else {})
    encoded = urllib.parse.urlencode(query, safe="/", quote_via=urllib.parse.quote)
    return f"https://{region}.console.aws.amazon.com/s3/buckets/{bucket}?{encoded}"
