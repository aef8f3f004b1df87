"""The File connector's schema discovery, on files the tests write under a files root of their own."""
import os
import threading
import time
import tracemalloc

import pytest

from connectors import file, runner
from connectors.checks import check_settings
from connectors.interface import Refused, Settings

DEADLINE_SECONDS = 20
SECRET_LINE = "root:$6$hunter2hunter2:19000:0:99999:7:::"  # what a file outside the root might hold


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "connector-files"
    folder.mkdir()
    return folder


def discover(root, path, values=None):
    """What an import shows: {object type: [(attribute, type, plurality, writability), ...]} and the warnings."""
    settings = Settings({file.FILE_PATH.id: str(path), **{setting.id: value for setting, value in (values or {}).items()}},
                        (), root)
    schema = runner.run(file.CONNECTOR.discover_schema, settings, DEADLINE_SECONDS)
    types = {object_type.name: [(a.name, a.type, a.plurality, a.writability) for a in object_type.attributes]
             for object_type in schema.object_types}
    return types, schema.warnings


def refusal(root, path, values=None) -> str:
    with pytest.raises(Refused) as refused:
        discover(root, path, values)
    return refused.value.message


def write(path, text: str, newline="\n"):
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def column_type(root, value: str) -> str:
    write(root / "one.csv", f'value\n"{value}"\n')
    [[(_, attribute_type, _, _)]] = discover(root, "one.csv")[0].values()
    return attribute_type


@pytest.mark.parametrize("value, expected", [
    ("0", "Number"),
    ("-42", "Number"),
    ("2147483647", "Number"),
    ("-2147483648", "Number"),
    ("2147483648", "LongNumber"),
    ("-2147483649", "LongNumber"),
    ("9223372036854775807", "LongNumber"),
    ("9223372036854775808", "Decimal"),
    ("007", "Text"),  # leading zeros: an identifier, not a number
    ("12.50", "Decimal"),
    ("-0.5", "Decimal"),
    ("1e5", "Text"),
    ("1,000", "Text"),
    (".5", "Text"),
    ("true", "Boolean"),
    ("FALSE", "Boolean"),
    ("True", "Boolean"),
    ("yes", "Text"),
    ("2026-12-01", "DateTime"),
    ("2026-12-01T10:30", "DateTime"),
    ("2026-12-01 10:30:15", "DateTime"),
    ("2026-12-01T10:30:15.123456Z", "DateTime"),
    ("2026-12-01T10:30:15+02:00", "DateTime"),
    ("2026-02-30", "Text"),  # the shape of a date, not a date
    ("20261201", "Number"),  # ISO 8601's basic form is a number here
    ("10:30", "Text"),
    ("01/12/2026", "Text"),
    ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Guid"),
    ("{3F2504E0-4F89-11D3-9A0C-0305E82C3301}", "Guid"),
    ("3f2504e04f8911d39a0c0305e82c3301", "Text"),  # a hash as often as a GUID
    ("{3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Text"),
    ("  17  ", "Number"),
    ("hello", "Text"),
])
def test_a_value_gives_its_column_a_type(root, value, expected):
    assert column_type(root, value) == expected


def test_each_header_column_is_an_attribute_typed_by_all_its_values(root):
    write(root / "people.csv", "\n".join([
        "id,employeeNumber,salary,active,joined,objectGuid,nickname,mixed,unused,groups,scores,big",
        "1,007,1000,true,2026-12-01,3f2504e0-4f89-11d3-9a0c-0305e82c3301,,1,,staff|admins,1|2,1",
        "2,042,1250.75,FALSE,2026-12-01T09:00:00Z,3f2504e0-4f89-11d3-9a0c-0305e82c3302,Bob,true,,staff,3,4294967296",
        "3,100,,true,,,,x,,,|7|,",
        "",  # a blank line is no row
    ]) + "\n")
    types, warnings = discover(root, "people.csv")
    assert types == {"people": [
        ("id", "Number", "SingleValued", "Writable"),
        ("employeeNumber", "Text", "SingleValued", "Writable"),
        ("salary", "Decimal", "SingleValued", "Writable"),  # integers and decimals: Decimal
        ("active", "Boolean", "SingleValued", "Writable"),
        ("joined", "DateTime", "SingleValued", "Writable"),
        ("objectGuid", "Guid", "SingleValued", "Writable"),
        ("nickname", "Text", "SingleValued", "Writable"),
        ("mixed", "Text", "SingleValued", "Writable"),
        ("unused", "Text", "SingleValued", "Writable"),  # empty throughout
        ("groups", "Text", "MultiValued", "Writable"),
        ("scores", "Number", "MultiValued", "Writable"),  # typed value by value; empty values ignored
        ("big", "LongNumber", "SingleValued", "Writable"),
    ]}
    assert warnings == ()


def test_bom_crlf_a_configured_delimiter_and_quoting(root):
    text = "\ufeffname;title;id\nSmith;\"Head; \"\"Ops\"\"\nand more\";1\nJones;;2\n"
    write(root / "staff.csv", text, newline="\r\n")
    types, _ = discover(root, "staff.csv", {file.DELIMITER: ";"})
    assert types == {"staff": [
        ("name", "Text", "SingleValued", "Writable"),  # no byte-order mark in the first name
        ("title", "Text", "SingleValued", "Writable"),  # the quoted delimiter, quote and line break are one value
        ("id", "Number", "SingleValued", "Writable"),  # CR is not part of the last value
    ]}


def test_a_tab_delimited_file_with_a_multi_value_delimiter_of_its_own(root):
    write(root / "groups.tsv", "group\tmembers\nstaff\t1;2;3\n")
    types, _ = discover(root, "groups.tsv", {file.DELIMITER: "\t", file.MULTI_VALUE_DELIMITER: ";"})
    assert types == {"groups": [("group", "Text", "SingleValued", "Writable"),
                                ("members", "Number", "MultiValued", "Writable")]}


def test_the_object_type_is_the_setting_or_else_the_file_name(root):
    (root / "hr").mkdir()
    write(root / "hr" / "staff.export.csv", "id\n1\n")
    assert list(discover(root, "hr/staff.export.csv")[0]) == ["staff.export"]
    assert list(discover(root, "hr/staff.export.csv", {file.OBJECT_TYPE: " person "})[0]) == ["person"]


def test_only_the_first_rows_are_read(root):
    rows = ["7"] * file.SAMPLE_ROWS + ["not a number"]
    write(root / "long.csv", "id\n" + "\n".join(rows) + "\n")
    assert discover(root, "long.csv")[0] == {"long": [("id", "Number", "SingleValued", "Writable")]}


def test_rows_longer_than_the_header_are_a_warning(root):
    write(root / "ragged.csv", "a,b\n1,2\n3,4,5\n6,7,8,9\n")
    types, warnings = discover(root, "ragged.csv")
    assert types == {"ragged": [("a", "Number", "SingleValued", "Writable"), ("b", "Number", "SingleValued", "Writable")]}
    assert warnings == ("2 of the first 3 rows of 'ragged.csv' have more values than the header has columns; "
                        "the values past the last column were left out.",)


def test_a_50_mb_file_imports_quickly_in_bounded_memory(root):
    row = "3f2504e0-4f89-11d3-9a0c-0305e82c3301,Jane Q. Public,jane.public@example.com,2026-12-01T10:30:00Z,1234567\n"
    with open(root / "huge.csv", "w") as huge:
        huge.write("objectGuid,displayName,mail,joined,number\n")
        block = row * 10_000
        while huge.tell() < 50 * 1024 * 1024:
            huge.write(block)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        types, _ = discover(root, "huge.csv")
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [t for _, t, _, _ in types["huge"]] == ["Guid", "Text", "Text", "DateTime", "Number"]
    print(f"50 MB file: {seconds * 1000:.0f} ms, peak {peak / 1024:.0f} KiB traced")
    assert seconds < 2
    assert peak < 2 * 1024 * 1024


@pytest.fixture
def outside(tmp_path):
    """A file beside the root, not in it."""
    return write(tmp_path / "shadow", SECRET_LINE + "\n")


@pytest.mark.parametrize("given", ["../shadow", "{outside}", "link", "sub/../../shadow", "sub/link-to-sub/../../shadow"])
def test_a_path_outside_the_root_is_refused(root, outside, given):
    (root / "sub").mkdir()
    (root / "link").symlink_to(outside)
    (root / "sub" / "link-to-sub").symlink_to(root / "sub")
    given = given.format(outside=outside)
    message = refusal(root, given)
    assert message == (f"File Path {given!r} lies outside the connector files folder (JIM_CONNECTOR_FILES_ROOT); "
                       f"files are read only from there.")
    assert "hunter2" not in message


def test_a_root_reached_through_a_link_and_links_inside_it_are_followed(tmp_path, root):
    write(root / "real.csv", "id\n1\n")
    (root / "alias.csv").symlink_to(root / "real.csv")
    (tmp_path / "root-link").symlink_to(root)
    assert list(discover(tmp_path / "root-link", "alias.csv")[0]) == ["alias"]
    assert list(discover(root, str(root / "real.csv"))[0]) == ["real"]  # absolute, inside


def test_a_pipe_outside_the_root_is_never_opened(tmp_path, root):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (root / "pipe-link").symlink_to(fifo)
    opened = threading.Event()

    def writer():  # opening the write end waits until someone opens the read end
        with open(fifo, "wb"):
            opened.set()
    threading.Thread(target=writer, daemon=True).start()
    try:
        for given in ("pipe-link", str(fifo), "../pipe"):
            assert "lies outside the connector files folder" in refusal(root, given)
        assert not opened.wait(0.5)
    finally:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
    assert opened.wait(5)  # the test would have seen an open


@pytest.mark.parametrize("make, given, expected", [
    (lambda root: None, "missing.csv", "There is no file at File Path 'missing.csv'."),
    (lambda root: (root / "folder").mkdir(), "folder", "File Path 'folder' is a folder, not a delimited text file."),
    (lambda root: None, ".", "File Path '.' is a folder, not a delimited text file."),
    (lambda root: os.mkfifo(root / "pipe"), "pipe", "File Path 'pipe' is not a regular file, not a delimited text file."),
    (lambda root: None, "x.csv\x00.png", "File Path must not hold a NUL character."),
    (lambda root: (root / "loop").symlink_to(root / "loop"), "loop",
     "File Path 'loop' cannot be resolved: it holds a loop of symbolic links."),
])
def test_what_is_not_a_file_is_refused(root, make, given, expected):
    make(root)
    assert refusal(root, given) == expected


NOT_DELIMITED = "The file at File Path 'x.csv' is not a delimited text file: "


@pytest.mark.parametrize("content, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + SECRET_LINE.encode(), NOT_DELIMITED + "it is not UTF-8 text."),
    (b"\x1f\x8b\x08\x00" + SECRET_LINE.encode(), NOT_DELIMITED + "it holds control characters or NUL bytes, as binary files do."),
    (b"name\n" + SECRET_LINE.encode() + b"\x00\n", NOT_DELIMITED + "it holds control characters or NUL bytes, as binary files do."),
    (f"name\n{SECRET_LINE} caf\u00e9\n".encode("latin-1"), NOT_DELIMITED + "it is not UTF-8 text."),
    (f"name\n{SECRET_LINE}\xe9".encode("latin-1"), NOT_DELIMITED + "it is not UTF-8 text."),  # cut short at the end
    (f"\ufeffname\n{SECRET_LINE}\n".encode("utf-16"), NOT_DELIMITED + "it is UTF-16 text; save it as UTF-8."),
    (SECRET_LINE.encode() * 30_000, NOT_DELIMITED + "it has a line longer than 1,048,576 bytes (lines end with LF or CRLF)."),
    (b'name\n"' + SECRET_LINE.encode() * 4000 + b"\n", NOT_DELIMITED + "line 2 cannot be read (a value longer than "
                                                                       "131,072 characters, or unbalanced quotes)."),
    (b"", "The file at File Path 'x.csv' has no header row: its first line must name its columns."),
    (b"\n" + SECRET_LINE.encode(), "The file at File Path 'x.csv' has no header row: its first line must name its columns."),
    (b"name,,mail\n" + SECRET_LINE.encode(), "Column 2 of the header row of 'x.csv' has no name."),
    (b"mail,name,Mail \n" + SECRET_LINE.encode(), "Columns 1 and 3 of the header row of 'x.csv' have the same name."),
])
def test_a_file_that_is_not_delimited_text_is_refused_without_a_line_of_it(root, content, expected):
    (root / "x.csv").write_bytes(content)
    message = refusal(root, "x.csv")
    assert message == expected
    assert "hunter2" not in message


def test_the_two_delimiters_must_differ(root):
    write(root / "x.csv", "a\n1\n")
    assert refusal(root, "x.csv", {file.DELIMITER: ";", file.MULTI_VALUE_DELIMITER: ";"}) == \
        "The Multi-Value Delimiter must differ from the Delimiter."


@pytest.mark.parametrize("delimiter, problems", [
    (",", {}),
    ("\t", {}),
    ("|", {}),
    (";;", {102: ["Delimiter must be one character other than a quote or a line break."]}),
    ('"', {102: ["Delimiter must be one character other than a quote or a line break."]}),
    ("\n", {102: ["Delimiter must be one character other than a quote or a line break."]}),
])
def test_the_delimiter_is_one_character(delimiter, problems):
    assert check_settings(file.CONNECTOR, {101: "x.csv", 102: delimiter}) == problems
