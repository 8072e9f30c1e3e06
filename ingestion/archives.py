"""Zip-based documents (DOCX today): what opening one and reading its parts may cost.

An archive is judged by its directory before anything is inflated, and every part read is
counted against one budget of uncompressed bytes, so no archive costs more than that budget
whatever its directory claims.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import IO

from ingestion.errors import InvalidDocument

MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_COMPRESSION_RATIO = 100
# Small XML parts can legitimately compress very well; only large members are judged by ratio.
ZIP_RATIO_MIN_BYTES = 1024 * 1024
# What the parts we parse (the text and its styles, not the images) may inflate to in total.
# The parsers stream, so this bounds time and the size of the extracted text, not a tree in memory.
MAX_ZIP_READ_BYTES = 64 * 1024 * 1024


def zip_names(data: bytes) -> list[str]:
    """The member names of a zip archive; InvalidDocument if it is damaged."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except zipfile.BadZipFile as exc:
        raise InvalidDocument("The file is a damaged zip archive and cannot be read.") from exc


class PeekLimitReached(Exception):  # noqa: N818 - a signal to stop looking, not a failure
    """Raised by reads past a `BoundedZip`'s `peek_bytes`: enough was seen to judge the file."""


class BoundedZip:
    """A zip archive checked against bomb-like directories, whose parts are read within a budget.

    `what` names the document in messages ("The Word document"). `read_parts` lists the members
    that will be parsed: their declared sizes are checked against `max_read_bytes` up front, so a
    document that is too large is refused before any work, and reading is counted as it happens,
    so a member that inflates beyond its declared size cannot get past the budget either.
    With `peek_bytes`, reading stops with `PeekLimitReached` once that much has been read: a
    cheap look at the start of the document, for checks that must stay quick.
    """

    def __init__(
        self,
        data: bytes,
        *,
        what: str,
        read_parts: tuple[str, ...],
        max_read_bytes: int = MAX_ZIP_READ_BYTES,
        peek_bytes: int | None = None,
    ) -> None:
        self.what = what
        self.max_read_bytes = max_read_bytes
        self.peek_bytes = peek_bytes
        self.read_bytes = 0
        try:
            self._archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise InvalidDocument(f"{what} is damaged and cannot be read.") from exc
        members = self._archive.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise InvalidDocument(
                f"{what} contains {len(members)} parts; at most {MAX_ZIP_MEMBERS} are allowed."
            )
        expands_too_far = any(
            member.file_size > ZIP_RATIO_MIN_BYTES
            and member.file_size > MAX_ZIP_COMPRESSION_RATIO * max(member.compress_size, 1)
            for member in members
        )
        if expands_too_far or sum(m.file_size for m in members) > MAX_ZIP_UNCOMPRESSED_BYTES:
            raise InvalidDocument(
                f"{what} expands to an unreasonable size (it looks like a zip bomb) and was "
                "refused."
            )
        names = set(self._archive.namelist())
        declared = sum(
            self._archive.getinfo(name).file_size for name in read_parts if name in names
        )
        if declared > max_read_bytes:
            self._too_large(declared)

    def __enter__(self) -> BoundedZip:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._archive.close()

    def has(self, name: str) -> bool:
        try:
            self._archive.getinfo(name)
        except KeyError:
            return False
        return True

    def open(self, name: str) -> io.BufferedReader:
        """A stream of the member's inflated bytes, counted against the archive's budget."""
        try:
            raw = self._archive.open(name)
        except (KeyError, zipfile.BadZipFile, NotImplementedError) as exc:
            raise InvalidDocument(f"{self.what} is damaged and cannot be read.") from exc
        return io.BufferedReader(_CountedStream(raw, self), buffer_size=64 * 1024)

    def _count(self, size: int) -> None:
        self.read_bytes += size
        if self.read_bytes > self.max_read_bytes:
            self._too_large(self.read_bytes)
        if self.peek_bytes is not None and self.read_bytes > self.peek_bytes:
            raise PeekLimitReached

    def _too_large(self, size: int) -> None:
        mb = 1024 * 1024
        raise InvalidDocument(
            f"{self.what} is too large to index: its text parts inflate to more than "
            f"{size // mb} MB, and at most {self.max_read_bytes // mb} MB are read. "
            "Split it into smaller documents."
        )


class _CountedStream(io.RawIOBase):
    def __init__(self, raw: IO[bytes], owner: BoundedZip) -> None:
        self._raw = raw
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            chunk = self._raw.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            # A member whose data does not match its header (bad CRC, truncated deflate stream).
            raise InvalidDocument(f"{self._owner.what} is damaged and cannot be read.") from exc
        self._owner._count(len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._raw.close()
        super().close()
