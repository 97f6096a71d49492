"""A path list of one source as a value (`Paths`): read once from the text a person typed (a form's paths field, the
CLI's `--path`), stored as it is (`adapters/models.py`'s column type), carried typed to the policy compiler, and
shown as the text a page shows. One path's own checks (`validate_path`, `path_covers`) are `domain.py`'s."""

from __future__ import annotations

import re
from typing import ClassVar

from core.domain import MAX_PATHS, InvalidInput, format_paths, path_covers, plural, shown, validate_path


class Paths(tuple[str, ...]):
    """A path list of one source: validated paths (a leading `/`, no trailing `/`, none inside another), or none for
    the whole source (`Paths()`, `Paths.WHOLE`). Made once where a list enters (typed text, from a form or the CLI,
    by `parse`; the JSON the database stored, by its column type; some of a value's paths, as `Paths(those)`) and
    carried as it is to the policy compiler. Shown as `str()` (`/a, /b` or "whole bucket") and in a form's field
    as `text` (one a line), which `parse` reads back to the same value."""

    __slots__ = ()
    WHOLE: ClassVar[Paths]

    @classmethod
    def parse(cls, text: str | None, bucket: str) -> Paths:
        """The paths field (one path a line) of the source `bucket`, read: empty text means the whole bucket. Blank
        lines and the spaces around a path are a person's slips, not meanings: they are dropped. A line pasted as
        an S3 address of this bucket (`s3://bucket/models`, `arn:aws:s3:::bucket/models`) is its path. What is
        wrong is refused with one sentence (InvalidInput)."""
        lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
        typed = [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]
        if len(typed) > MAX_PATHS:
            raise InvalidInput(f"There are {plural(len(typed), 'path')}: give at most {MAX_PATHS}.")
        paths = [validate_path(_typed(line, bucket, number), line_number=number, typed=line) for number, line in typed]
        for path in paths:
            if paths.count(path) > 1:
                raise InvalidInput(f"The path {shown(path, 40)} is listed twice.")
            for other in paths:
                if other != path and path_covers(other, path):
                    inside, outer = shown(path, 40), shown(other, 40)
                    raise InvalidInput(f"The path {inside} is already inside {outer}: list only {outer}.")
        return cls(paths)

    @classmethod
    def given(cls, paths: Paths | str | None, bucket: str) -> Paths:
        """The paths an action was given: a value already made (held, asked, stored) as it is; the text a person
        typed, read (`parse`); None, the whole source."""
        return paths if isinstance(paths, Paths) else cls.parse(paths, bucket)

    @property
    def text(self) -> str:
        """As a paths field shows it: one path a line (empty: the whole bucket)."""
        return "\n".join(self)

    def __str__(self) -> str:
        return format_paths(self)

    def __repr__(self) -> str:
        return f"Paths({tuple(self)!r})"


Paths.WHOLE = Paths()

# An S3 address as the console, the CLI and IAM write it: `s3://bucket/key` or `arn:aws:s3:::bucket/key`
_S3_ADDRESS = re.compile(r"^(?:s3://|arn:aws[a-z-]*:s3:::)([^/]+)(.*)$", re.IGNORECASE)


# The end of a folder as typed: its slash, and the spaces before it (`/models /`), which the text of the field would
# drop when it is shown and sent again; control characters are left for the refusal to name
_FOLDER_END = re.compile(r"(?:(?:(?![\x00-\x1f\x7f-\x9f])\s)*/)+$")


def _typed(line: str, bucket: str, number: int) -> str:
    """A typed line as a path of `bucket`, its folder's end written `/`: `/models /` is the folder /models, as
    `/models/` is; `/ /` is the whole bucket."""
    return _FOLDER_END.sub("/", _path_of(line, bucket, number))


def _path_of(line: str, bucket: str, number: int) -> str:
    """A typed line as a path of `bucket`: an S3 address of the bucket is its key's path; of another bucket, refused."""
    address = _S3_ADDRESS.match(line)
    if address is None:
        return line
    named, key = address.groups()
    if named != bucket:
        raise InvalidInput(
            f"Line {number} ({shown(line, 60)}) is in {shown(named, 63)}, not in {bucket}: give folders of "
            f"{bucket} here, for example /{shown(key.strip('/') or 'models', 40)}."
        )
    return "/" + key.lstrip("/")
