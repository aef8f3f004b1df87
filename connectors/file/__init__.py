"""The File connector (id 1): a delimited text file inside JIM_CONNECTOR_FILES_ROOT.

Discovery reads the header and at most ``SAMPLE_ROWS`` rows, line by line, and keeps one row at a time, so a
file of any size imports in the same time and memory. UTF-8 (with or without a byte-order mark), lines ending
in LF or CRLF, fields quoted with ``"`` as RFC 4180 says. A run reads every row the same way, one at a time.

No message quotes the file: a file that is not delimited text may hold anything, and this service is not a
way to read it. Messages name the File Path as given, and rows and columns by number.
"""
import codecs
import csv
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import BinaryIO

from connectors.file.inference import ColumnType
from connectors.interface import (
    Capabilities,
    Category,
    Connector,
    Deadline,
    ImportedObject,
    ReadScope,
    DiscoveredAttribute,
    DiscoveredObjectType,
    DiscoveredSchema,
    Plurality,
    Refused,
    Setting,
    Settings,
)
from connectors.interface import SettingType as S
from connectors.values import from_text, imported

FILE_PATH = Setting(101, "File Path", S.FILE, True,
                    "The path of the file to read or write, relative to the connector files folder.")
DELIMITER = Setting(102, "Delimiter", S.STRING, False, "The column delimiter: one character, or \\t for a tab.",
                    ",", pattern=r'\A([^"]|\\t)\Z', pattern_hint="one character other than a quote, or \\t for a tab")
TAB = "\\t"  # how a tab is written: a setting's value holds no control character
MULTI_VALUE_DELIMITER = Setting(103, "Multi-Value Delimiter", S.STRING, False,
                                "The delimiter between values of one column.", "|", differs_from=DELIMITER.id)
OBJECT_TYPE = Setting(104, "Object Type", S.STRING, False,
                      "The object type every row describes; the file's name without its extension when empty.")
# JIM's, stored and shown, not acted on here yet. JIM requires Mode; its default stands in when it is empty.
MODE = Setting(106, "Mode", S.DROPDOWN, False,
               "Import Only: read from the file. Export Only: write to it. Bidirectional: export, then confirm by "
               "importing from the same file.", "Import Only", ("Import Only", "Export Only", "Bidirectional"),
               acted_on=False)
OBJECT_TYPE_COLUMN = Setting(107, "Object Type Column", S.STRING, False,
                             "The column that holds each row's object type, for a file of several types.",
                             acted_on=False)
CULTURE = Setting(108, "Culture", S.STRING, False,
                  "A culture (en-gb) to read the file's contents with, instead of the invariant culture.",
                  acted_on=False)

SAMPLE_ROWS = 1000  # enough to see each column's kinds of value; the rest of the file is not read
MAX_LINE_BYTES = 1024 * 1024  # a longer line is not a delimited file's, and would be held whole
CONTROL_CHARACTERS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # binary, not text; tab, LF, CR are text


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    given = settings[FILE_PATH]
    delimiter = "\t" if settings[DELIMITER] == TAB else settings[DELIMITER]
    value_delimiter = settings[MULTI_VALUE_DELIMITER]  # the offline checks keep it apart from the Delimiter
    with opened(settings, given) as file:
        header, types, multi_valued, warnings = read_columns(file, given, delimiter, value_delimiter, deadline)
    attributes = tuple(
        DiscoveredAttribute(name, column_type.type, Plurality.MULTI_VALUED if multiple else Plurality.SINGLE_VALUED)
        for name, column_type, multiple in zip(header, types, multi_valued)
    )
    name = (settings[OBJECT_TYPE] or "").strip() or PurePath(given).stem
    return DiscoveredSchema((DiscoveredObjectType(name, attributes),), warnings)


def opened(settings: Settings, given: str) -> BinaryIO:
    """The file at File Path ``given``, opened, if it lies inside the files root and is none of the service's own
    files (its key, its database), by its name or by a hard link's."""
    root = Path(settings.files_root).resolve()
    held = held_by(root, settings.private_paths)
    if held is not None:  # checked when the service started: the root is a link that points elsewhere now
        raise Refused(f"The connector files folder (JIM_CONNECTOR_FILES_ROOT) now holds the service's own files "
                      f"({held}); no file is read from it until it is a folder of its own again.")
    file = open_file(inside_root(root, given), given)
    status = os.fstat(file.fileno())
    if (status.st_dev, status.st_ino) in own_files(settings.private_paths):
        file.close()
        raise Refused(f"File Path {given!r} is a link to one of the service's own files (its database or key), "
                      f"which no connector reads.")
    return file


def held_by(root: Path, private_paths: tuple[Path, ...]) -> Path | None:
    """The first of the service's own folder and files that the (resolved) root is or holds, if any."""
    return next((own for own in private_paths if own.is_relative_to(root)), None)


def own_files(private_paths: tuple[Path, ...]) -> set[tuple[int, int]]:
    """The (device, inode) of each of the service's own files, and of each file in its own folders: a hard link
    to one has another name, not another inode."""
    found = set()
    for path in private_paths:
        for candidate in [path, *(path.iterdir() if path.is_dir() else ())]:
            try:
                status = candidate.stat()
            except OSError:
                continue  # not made yet (the key before its first use), or gone
            found.add((status.st_dev, status.st_ino))
    return found


def inside_root(root: Path, given: str) -> Path:
    """``given`` (relative to the root, or absolute) with every symbolic link and ``..`` resolved, if it lies
    inside the root. Nothing is opened: a path outside may be a device or a pipe that blocks when opened."""
    root = root.resolve()
    try:
        path = (root / given).resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        raise Refused(f"File Path {given!r} cannot be resolved: it holds a loop of symbolic links.") from None
    if not path.is_relative_to(root):
        raise Refused(f"File Path {given!r} lies outside the connector files folder (JIM_CONNECTOR_FILES_ROOT); "
                      f"files are read only from there.")
    return path


def open_file(path: Path, given: str) -> BinaryIO:
    """The regular file at ``path``, opened without blocking; a pipe or a device inside the root is refused
    before it is read. ``O_NOFOLLOW`` refuses a link put in place of the file itself since ``path`` was
    resolved, not one put in place of a folder on the way: that needs write access inside the root."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise Refused(f"There is no file at File Path {given!r}.") from None
    except PermissionError:
        raise Refused(f"The service may not read the file at File Path {given!r}.") from None
    except OSError as error:
        raise Refused(f"The file at File Path {given!r} cannot be opened: {error.strerror}.") from None
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise Refused(f"File Path {given!r} is {what}, not a delimited text file.")
    return os.fdopen(descriptor, "rb")


def read_columns(file: BinaryIO, given: str, delimiter: str, value_delimiter: str, deadline: Deadline):
    """The header's column names, each column's type and whether it is multi-valued, and what the sample
    found amiss. Each row is read only while the deadline lasts (rows of a megabyte take their time)."""
    rows = csv.reader(text_lines(file, given), delimiter=delimiter)
    try:
        header = next(rows, None)
        if not header:  # an empty file, or an empty first line
            raise Refused(f"The file at File Path {given!r} has no header row: its first line must name its columns.")
        header = column_names(header, given)
        types = [ColumnType() for _ in header]
        multi_valued = [False] * len(header)
        longer = sampled = 0
        for sampled, row in enumerate(rows, start=1):
            deadline.remaining()
            if len(row) > len(header):
                longer += 1
            for index, cell in enumerate(row[:len(header)]):
                values = cell.split(value_delimiter)
                multi_valued[index] = multi_valued[index] or len(values) > 1
                for value in values:
                    types[index].add(value)
            if sampled == SAMPLE_ROWS:
                break
    except csv.Error:
        raise Refused(f"The file at File Path {given!r} is not a delimited text file: line {rows.line_num} "
                      f"cannot be read (a value longer than {csv.field_size_limit():,} characters, or "
                      f"unbalanced quotes).") from None
    warnings = ()
    if longer:
        warnings = (f"{longer} of the first {sampled:,} rows of {given!r} have more values than the header "
                    f"has columns; the values past the last column were left out.",)
    return header, types, multi_valued, warnings


def column_names(header: list[str], given: str) -> list[str]:
    names = [name.strip() for name in header]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            raise Refused(f"Column {position} of the header row of {given!r} has no name.")
        first = seen.setdefault(name.casefold(), position)
        if first != position:
            raise Refused(f"Columns {first} and {position} of the header row of {given!r} have the same name.")
    return names


def text_lines(file: BinaryIO, given: str) -> Iterator[str]:
    """The file's lines as text, each checked to be UTF-8 and free of the control characters of binary data."""
    def refused(why: str) -> Refused:
        return Refused(f"The file at File Path {given!r} is not a delimited text file: {why}.")

    decoder = codecs.getincrementaldecoder("utf-8-sig")()  # the BOM, if there is one, is not text
    first = True
    while line := file.readline(MAX_LINE_BYTES + 1):
        if first and line.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise refused("it is UTF-16 text; save it as UTF-8")
        first = False
        if len(line) > MAX_LINE_BYTES:
            raise refused(f"it has a line longer than {MAX_LINE_BYTES:,} bytes (lines end with LF or CRLF)")
        if CONTROL_CHARACTERS.search(line):
            raise refused("it holds control characters or NUL bytes, as binary files do")
        try:
            yield decoder.decode(line)
        except UnicodeDecodeError:
            raise refused("it is not UTF-8 text") from None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise refused("it is not UTF-8 text") from None


def read_objects(settings: Settings, scope: ReadScope, deadline: Deadline) -> Iterator[ImportedObject]:
    """Each row of the file (the run's own, or File Path), one at a time, as an object of the one type."""
    if not scope.object_types:
        return
    object_type = scope.object_types[0]
    given = scope.file_path or settings[FILE_PATH]
    delimiter = "\t" if settings[DELIMITER] == TAB else settings[DELIMITER]
    value_delimiter = settings[MULTI_VALUE_DELIMITER]
    multi_valued = {attribute.name for attribute in object_type.attributes if attribute.multi_valued}
    with opened(settings, given) as file:
        rows = csv.reader(text_lines(file, given), delimiter=delimiter)
        try:
            header = next(rows, None)
            if not header:
                raise Refused(f"The file at File Path {given!r} has no header row: its first line must name its "
                              f"columns.")
            header = column_names(header, given)
            positions = {name.casefold(): index for index, name in enumerate(header)}
            missing = [attribute.name for attribute in object_type.attributes
                       if attribute.name.casefold() not in positions]
            if missing:
                raise Refused(f"The file at File Path {given!r} has no column {missing[0]!r}: import its schema "
                              f"again.")
            columns = [(attribute.name, positions[attribute.name.casefold()]) for attribute in object_type.attributes]
            for row in rows:
                deadline.restart()
                if not row:  # a blank line (one at the end of a file, most often) is no row
                    continue
                cells = {name: row[index].strip() if index < len(row) else "" for name, index in columns}

                def found(attribute, cells=cells):
                    cell = cells[attribute.name]
                    if not cell:
                        return []
                    if attribute.name not in multi_valued:
                        return [cell]
                    return [part.strip() for part in cell.split(value_delimiter) if part.strip()]  # "a||b": two

                yield imported(object_type, found, from_text)
        except csv.Error:
            raise Refused(f"The file at File Path {given!r} is not a delimited text file: line {rows.line_num} "
                          f"cannot be read (a value longer than {csv.field_size_limit():,} characters, or "
                          f"unbalanced quotes).") from None


CONNECTOR = Connector(
    1,
    "JIM File Connector",
    "Imports from and exports to delimited text files.",
    (
        FILE_PATH,
        DELIMITER,
        MULTI_VALUE_DELIMITER,
        OBJECT_TYPE,
        Setting(105, "Stop On First Error", S.CHECKBOX, False, "Stop an import at its first bad row.", False,
                category=Category.IMPORT, acted_on=False),
        MODE,
        OBJECT_TYPE_COLUMN,
        CULTURE,
    ),
    discover_schema,
    read_objects=read_objects,
    capabilities=Capabilities(full_import=True, delta_import=False, export=True, user_selected_external_id=True,
                              user_selected_attribute_types=True, auto_confirm_export=True, file_paths=True),
)
