"""What a raw CSV file must be before DuckDB reads it: UTF-8 text, comma-separated, a named header.

DuckDB reads CSV as UTF-8 only, and meets a byte that is not UTF-8 either with an error that
names no column or, when only some columns are read, with an internal error that invalidates
the connection. So every CSV is read once here, as bytes, before DuckDB sees it: the same pass
takes the file's SHA-256 for the load ledger (ledger.py), and a byte that is not UTF-8 is
refused naming its line and column. A UTF-8 byte order mark (Excel's "CSV UTF-8") is allowed;
UTF-16 is refused by name; a header split by `;`, tab or `|` is named as such rather than
reported as a missing column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from pathlib import Path

from onboard.core.errors import InputError

#: A header row longer than this is not a header (a binary file, or text with no line ends).
HEADER_LIMIT = 1 << 20
CHUNK = 1 << 20
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Delimiters other than the comma that a header is recognised by, and how the message says them.
OTHER_DELIMITERS = {";": "`;`-separated", "\t": "tab-separated", "|": "`|`-separated"}


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEADER_LIMIT)
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror})") from None


def header_line(path: Path) -> str:
    """The first line of a CSV file as text, without a UTF-8 byte order mark."""
    head = _read_head(path)
    if head.startswith(UTF16_BOMS):
        raise InputError(f"{path}: expected UTF-8 text; the file looks UTF-16-encoded (save it as CSV UTF-8)")
    head = head.removeprefix(UTF8_BOM)
    ends = [index for index in (head.find(b"\n"), head.find(b"\r")) if index >= 0]
    if not ends and len(head) >= HEADER_LIMIT - len(UTF8_BOM):
        raise InputError(
            f"{path}: line 1: no line end in the first {HEADER_LIMIT:,} bytes (expected a header row of "
            "column names)"
        )
    line = head[: min(ends)] if ends else head
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{path}: line 1 (the header): expected UTF-8 text, found byte 0x{line[error.start]:02X}"
        ) from None
    if "\x00" in text:
        raise InputError(
            f"{path}: line 1 (the header): expected UTF-8 text, found a NUL byte (a binary file?)"
        )
    return text


def csv_header(path: Path) -> list[str]:
    """The column names in the first line of a CSV file; an empty name becomes `(unnamed column N)`.

    An unnamed column (a trailing comma on every line) is kept under that name so the file is
    read as written; it is not a raw column, so the load ignores it and says so.
    """
    try:
        header = next(csv.reader([header_line(path)]), [])
    except csv.Error as error:
        raise InputError(f"{path}: line 1: {error} (expected a header row of column names)") from None
    if not header:
        raise InputError(f"{path}: empty file (expected a header and rows)")
    names = [name or f"(unnamed column {index})" for index, name in enumerate(header, start=1)]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise InputError(f"{path}: column {duplicated[0]} appears twice in the header")
    return names


def delimiter_problem(path: Path, missing: str, expected: tuple[str, ...]) -> str | None:
    """The one-line message for a header split by another delimiter than the comma, if it is."""
    line = header_line(path)
    for delimiter, label in OTHER_DELIMITERS.items():
        if missing in (name.strip().strip('"') for name in line.split(delimiter)):
            return f"{path}: expected comma-separated columns {', '.join(expected)}; the header looks {label}"
    return None


def check_utf8_and_hash(path: Path) -> str:
    """The SHA-256 of a CSV file, refusing it if any byte is not UTF-8 (one pass over the bytes)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    raise _not_utf8(path, offset + error.start) from None
                offset += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise _not_utf8(path, offset - 1) from None
    except OSError as error:
        raise InputError(f"{path}: cannot read the file ({error.strerror})") from None
    return digest.hexdigest()


def _not_utf8(path: Path, offset: int) -> InputError:
    """The error for the first byte that is not UTF-8, named by its line and, if the CSV allows, column."""
    line = 1
    with path.open("rb") as handle:
        while (remaining := offset - handle.tell()) > 0 and (chunk := handle.read(min(CHUNK, remaining))):
            line += chunk.count(b"\n")
        byte = handle.read(1)
    found = f"found byte 0x{byte[0]:02X}" if byte else "found a truncated character at the end"
    column = _column(path)
    where = f"line {line}, {column}" if column else f"line {line}"
    return InputError(f"{path}: {where}: expected UTF-8 text, {found} (save the file as UTF-8)")


def _column(path: Path) -> str | None:
    """`column NAME` (or `field N` in the header) of the first field holding a byte that is not UTF-8."""
    try:
        with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
            header: list[str] = []
            for number, row in enumerate(csv.reader(handle), start=1):
                header = header or row
                for index, value in enumerate(row):
                    if any("\udc80" <= char <= "\udcff" for char in value):
                        if number > 1 and index < len(header):
                            return f"column {header[index]}"
                        return f"field {index + 1}"
    except csv.Error:
        return None
    return None
