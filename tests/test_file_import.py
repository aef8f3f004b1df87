"""Importing a File system's schema through the API, from files the tests write under a files root of their own."""
import json
import logging
import os
import shutil
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from app import create_app
from conftest import TEST_ENCRYPTION_KEY, make_key
from connectors import file
from database import db
from encryption import KEY_FILE
from models import Role
from private_files import FilesRootError
from envelope import assert_error
from importing import failed, history, import_schema, imported, new_system, preview, set_values
from leaks import shows

SECRET_LINE = "root:$6$hunter2hunter2:19000:0:99999:7:::"  # what a file outside the root might hold
W, S, M = "Writable", "SingleValued", "MultiValued"


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "connector-files"
    folder.mkdir()
    return folder


@pytest.fixture
def app_config(app_config, root):
    return {**app_config, "JIM_CONNECTOR_FILES_ROOT": str(root)}


@pytest.fixture
def file_system(client, admin):
    """A new File system; call it with the File Path and other settings to store them; gives its id."""
    def make(path, values=None):
        return new_system(client, admin, 1, {file.FILE_PATH.id: str(path),
                                             **{setting.id: value for setting, value in (values or {}).items()}})
    return make


def write(path, text: str, newline="\n", mkdir=False):
    if mkdir:
        path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode())
    return path


VALUES = [
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
    ("20261201T10:30", "Text"),  # and no date-time
    ("10:30", "Text"),
    ("01/12/2026", "Text"),
    ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Guid"),
    ("{3F2504E0-4F89-11D3-9A0C-0305E82C3301}", "Guid"),
    ("3f2504e04f8911d39a0c0305e82c3301", "Text"),  # a hash as often as a GUID
    ("{3f2504e0-4f89-11d3-9a0c-0305e82c3301", "Text"),
    ("  17  ", "Number"),
    ("hello", "Text"),
]


def test_a_value_gives_its_column_a_type(client, admin, root, file_system):
    """One column per value, named after it."""
    names = [f"{number:02} {value.strip()}" for number, (value, _) in enumerate(VALUES)]
    write(root / "kinds.csv", ",".join(f'"{name}"' for name in names) + "\n"
          + ",".join(f'"{value}"' for value, _ in VALUES) + "\n")
    types = imported(client, admin, file_system("kinds.csv"))
    assert {name: attribute_type for name, (attribute_type, _, _) in types["kinds"].items()} == \
        {name: expected for name, (_, expected) in zip(names, VALUES)}


def test_an_integer_longer_than_python_reads_is_a_decimal(client, admin, root, file_system):
    write(root / "big.csv", "big\n" + "9" * 5000 + "\n")
    assert imported(client, admin, file_system("big.csv"))["big"]["big"][0] == "Decimal"


def test_each_header_column_is_an_attribute_typed_by_all_its_values(client, admin, root, file_system):
    write(root / "people.csv", "\n".join([
        "id,employeeNumber,salary,active,joined,objectGuid,nickname,mixed,unused,groups,scores,big",
        "1,007,1000,true,2026-12-01,3f2504e0-4f89-11d3-9a0c-0305e82c3301,,1,,staff|admins,1|2,1",
        "2,042,1250.75,FALSE,2026-12-01T09:00:00Z,3f2504e0-4f89-11d3-9a0c-0305e82c3302,Bob,true,,staff,3,4294967296",
        "3,100,,true,,,,x,,,|7|,",
        "",  # a blank line is no row
    ]) + "\n")
    assert imported(client, admin, file_system("people.csv")) == {"people": {
        "id": ("Number", S, W),
        "employeeNumber": ("Text", S, W),
        "salary": ("Decimal", S, W),  # integers and decimals: Decimal
        "active": ("Boolean", S, W),
        "joined": ("DateTime", S, W),
        "objectGuid": ("Guid", S, W),
        "nickname": ("Text", S, W),
        "mixed": ("Text", S, W),
        "unused": ("Text", S, W),  # empty throughout
        "groups": ("Text", M, W),
        "scores": ("Number", M, W),  # typed value by value; empty values ignored
        "big": ("LongNumber", S, W),
    }}


def test_bom_crlf_a_configured_delimiter_and_quoting(client, admin, root, file_system):
    text = "\ufeffname;title;id\nSmith;\"Head; \"\"Ops\"\"\nand more\";1\nJones;;2\n"
    write(root / "staff.csv", text, newline="\r\n")
    assert imported(client, admin, file_system("staff.csv", {file.DELIMITER: ";"})) == {"staff": {
        "name": ("Text", S, W),  # no byte-order mark in the first name
        "title": ("Text", S, W),  # the quoted delimiter, quote and line break are one value
        "id": ("Number", S, W),  # CR is not part of the last value
    }}


def test_a_tab_delimited_file_with_a_multi_value_delimiter_of_its_own(client, admin, root, file_system):
    write(root / "groups.tsv", "group\tmembers\nstaff\t1;2;3\n")
    system_id = file_system("groups.tsv", {file.DELIMITER: "\\t", file.MULTI_VALUE_DELIMITER: ";"})
    assert imported(client, admin, system_id) == {"groups": {"group": ("Text", S, W), "members": ("Number", M, W)}}


def test_the_object_type_is_the_setting_or_else_the_file_name(client, admin, root, file_system):
    (root / "hr").mkdir()
    write(root / "hr" / "staff.export.csv", "id\n1\n")
    system_id = file_system("hr/staff.export.csv")
    assert list(imported(client, admin, system_id)) == ["staff.export"]
    set_values(client, admin, system_id, 1, {file.OBJECT_TYPE.id: "person"})
    assert list(imported(client, admin, system_id)) == ["person"]


def test_only_the_first_rows_are_read(client, admin, root, file_system):
    write(root / "long.csv", "id\n" + "7\n" * 1000 + "not a number\n")
    assert imported(client, admin, file_system("long.csv")) == {"long": {"id": ("Number", S, W)}}


def test_rows_longer_than_the_header_are_a_discovery_warning(client, admin, root, file_system):
    write(root / "ragged.csv", "a,b\n1,2\n3,4,5\n6,7,8,9\n")
    answer = preview(client, admin, file_system("ragged.csv"))
    assert answer.status_code == 200, answer.json
    assert answer.json["discoveryWarnings"] == [
        "2 of the first 3 rows of 'ragged.csv' have more values than the header has columns; "
        "the values past the last column were left out."]


def test_a_50_mb_file_imports_quickly_in_bounded_memory(client, admin, root, file_system):
    row = "3f2504e0-4f89-11d3-9a0c-0305e82c3301,Jane Q. Public,jane.public@example.com,2026-12-01T10:30:00Z,1234567\n"
    with open(root / "huge.csv", "w") as huge:
        huge.write("objectGuid,displayName,mail,joined,number\n")
        block = row * 10_000
        while huge.tell() < 50 * 1024 * 1024:
            huge.write(block)
    system_id = file_system("huge.csv")
    tracemalloc.start()
    try:
        started = time.perf_counter()
        types = imported(client, admin, system_id)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {name: attribute_type for name, (attribute_type, _, _) in types["huge"].items()} == {
        "objectGuid": "Guid", "displayName": "Text", "mail": "Text", "joined": "DateTime", "number": "Number"}
    print(f"50 MB file: imported and listed in {seconds * 1000:.0f} ms, peak {peak / 1024:.0f} KiB traced")
    assert seconds < 3
    assert peak < 4 * 1024 * 1024


@pytest.fixture
def outside(tmp_path):
    """A file beside the root, not in it."""
    return write(tmp_path / "shadow", SECRET_LINE + "\n")


@pytest.mark.parametrize("given", ["../shadow", "{outside}", "link", "sub/../../shadow",
                                   "sub/link-to-sub/../../shadow", "../connector-files-private/secret.csv"])
def test_a_path_outside_the_root_is_refused(client, admin, root, outside, file_system, caplog, given):
    caplog.set_level(logging.DEBUG)
    # A sibling folder whose name starts as the root's does: outside, though its path starts with the root's.
    write(root.parent / "connector-files-private" / "secret.csv", f"name\n{SECRET_LINE}\n", mkdir=True)
    (root / "sub").mkdir()
    (root / "link").symlink_to(outside)
    (root / "sub" / "link-to-sub").symlink_to(root / "sub")
    given = given.format(outside=outside)
    system_id = file_system(given)
    message = failed(client, admin, system_id, 400)
    assert message == (f"File Path {given!r} lies outside the connector files folder (JIM_CONNECTOR_FILES_ROOT); "
                       f"files are read only from there.")
    assert not shows(caplog.text + json.dumps(history(client, admin, system_id)), SECRET_LINE)


def test_a_root_reached_through_a_link_and_links_inside_it_are_followed(client, admin, tmp_path, root, app_config,
                                                                        file_system):
    write(root / "real.csv", "id\n1\n")
    (root / "alias.csv").symlink_to(root / "real.csv")
    assert list(imported(client, admin, file_system("alias.csv"))) == ["alias"]
    assert list(imported(client, admin, file_system(root / "real.csv"))) == ["real"]  # absolute, inside


def test_a_files_root_that_is_a_link(client, admin, tmp_path, root, file_system, app):
    (tmp_path / "root-link").symlink_to(root)
    app.config["JIM_CONNECTOR_FILES_ROOT"] = str(tmp_path / "root-link")
    write(root / "real.csv", "id\n1\n")
    assert list(imported(client, admin, file_system("real.csv"))) == ["real"]
    assert list(imported(client, admin, file_system(root / "real.csv"))) == ["real"]


def test_a_pipe_outside_the_root_is_never_opened(client, admin, tmp_path, root, file_system):
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
            assert "lies outside the connector files folder" in failed(client, admin, file_system(given), 400)
        assert not opened.wait(0.5)
    finally:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
    assert opened.wait(5)  # the test would have seen an open


@pytest.mark.parametrize("make, given, expected", [
    (lambda root: None, "missing.csv", "There is no file at File Path 'missing.csv'."),
    (lambda root: (root / "folder").mkdir(), "folder", "File Path 'folder' is a folder, not a delimited text file."),
    (lambda root: None, ".", "File Path '.' is a folder, not a delimited text file."),
    (lambda root: os.mkfifo(root / "pipe"), "pipe",
     "File Path 'pipe' is not a regular file, not a delimited text file."),
    (lambda root: (root / "loop").symlink_to(root / "loop"), "loop",
     "File Path 'loop' cannot be resolved: it holds a loop of symbolic links."),
])
def test_what_is_not_a_file_is_refused(client, admin, root, file_system, make, given, expected):
    make(root)
    assert failed(client, admin, file_system(given), 400) == expected


NOT_DELIMITED = "The file at File Path 'x.csv' is not a delimited text file: "
BINARY = NOT_DELIMITED + "it holds control characters or NUL bytes, as binary files do."
NOT_UTF8 = NOT_DELIMITED + "it is not UTF-8 text."
NO_HEADER = "The file at File Path 'x.csv' has no header row: its first line must name its columns."


@pytest.mark.parametrize("content, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + SECRET_LINE.encode(), NOT_UTF8),
    (b"\x1f\x8b\x08\x00" + SECRET_LINE.encode(), BINARY),
    (b"name\n" + SECRET_LINE.encode() + b"\x00\n", BINARY),
    (f"name\n{SECRET_LINE} caf\u00e9\n".encode("latin-1"), NOT_UTF8),
    (f"name\n{SECRET_LINE}\xe9".encode("latin-1"), NOT_UTF8),  # cut short at the end
    (f"\ufeffname\n{SECRET_LINE}\n".encode("utf-16"), NOT_DELIMITED + "it is UTF-16 text; save it as UTF-8."),
    (SECRET_LINE.encode() * 30_000,
     NOT_DELIMITED + "it has a line longer than 1,048,576 bytes (lines end with LF or CRLF)."),
    (b'name\n"' + SECRET_LINE.encode() * 4000 + b"\n", NOT_DELIMITED + "line 2 cannot be read (a value longer than "
                                                                       "131,072 characters, or unbalanced quotes)."),
    (b"", NO_HEADER),
    (b"\n" + SECRET_LINE.encode(), NO_HEADER),
    (b"name,,mail\n" + SECRET_LINE.encode(), "Column 2 of the header row of 'x.csv' has no name."),
    (b"mail,name,Mail \n" + SECRET_LINE.encode(), "Columns 1 and 3 of the header row of 'x.csv' have the same name."),
])
def test_a_file_that_is_not_delimited_text_is_refused_without_a_line_of_it(client, admin, root, file_system,
                                                                           caplog, content, expected):
    caplog.set_level(logging.DEBUG)
    (root / "x.csv").write_bytes(content)
    system_id = file_system("x.csv")
    assert failed(client, admin, system_id, 400) == expected
    assert not shows(caplog.text + json.dumps(history(client, admin, system_id)), SECRET_LINE)


def test_the_two_delimiters_must_differ(client, admin, root, file_system):
    """An offline check: the import tries nothing, and names the setting as validate-settings does."""
    write(root / "x.csv", "a\n1\n")
    system_id = file_system("x.csv", {file.DELIMITER: ";", file.MULTI_VALUE_DELIMITER: ";"})
    body = assert_error(import_schema(client, admin, system_id), 400, "VALIDATION_ERROR")
    assert body["validationErrors"] == {"settingValues.103": ["Multi-Value Delimiter must differ from the Delimiter."]}


@pytest.mark.parametrize("delimiter", [";;", '"', "\\n", "tab"])
def test_the_delimiter_is_one_character(client, admin, root, file_system, delimiter):
    write(root / "x.csv", "a\n1\n")
    system_id = file_system("x.csv", {file.DELIMITER: delimiter})
    answer = import_schema(client, admin, system_id)
    assert answer.status_code == 400, answer.json
    assert answer.json["validationErrors"] == {
        "settingValues.102": ["Delimiter must be one character other than a quote, or \\t for a tab."]}



# The service's own files: never read, whatever the root.

@pytest.mark.parametrize("make_root", [
    lambda tmp_path: Path("/"),
    lambda tmp_path: tmp_path,  # above the instance folder
    lambda tmp_path: tmp_path / "instance",
    lambda tmp_path: tmp_path / "data",  # the database's folder, outside the instance folder
    lambda tmp_path: tmp_path / "queue",  # the task queue's
    lambda tmp_path: linked(tmp_path / "alias", tmp_path),
], ids=["slash", "above-the-instance-folder", "the-instance-folder", "the-databases-folder", "the-task-queues-folder",
        "a-link-above"])
def test_a_files_root_that_holds_the_services_own_files_refuses_to_start(tmp_path, make_root):
    (tmp_path / "data").mkdir()
    given = make_root(tmp_path)
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'data' / 'jim.db'}",
              "JIM_TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'queue' / 'tasks.db'}",
              "JIM_ENCRYPTION_KEYS": [TEST_ENCRYPTION_KEY], "JIM_CONNECTOR_FILES_ROOT": str(given)}
    with pytest.raises(FilesRootError) as refused:
        create_app(config, instance_path=str(tmp_path / "instance"))
    assert str(refused.value).startswith(f"JIM_CONNECTOR_FILES_ROOT ({given.resolve()}) holds the service's own ")
    config["JIM_CONNECTOR_FILES_ROOT"] = str(tmp_path / "data-files")  # beside them: a folder of its own
    create_app(config, instance_path=str(tmp_path / "instance"))


def linked(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def test_a_hard_link_to_the_key_or_the_database_is_refused(monkeypatch, tmp_path, root, sqlite_template):
    """SQLite's: the one store whose database and key are files (PostgreSQL keeps neither on the service's disk)."""
    monkeypatch.delenv("JIM_ENCRYPTION_KEY", raising=False)
    shutil.copy(sqlite_template, tmp_path / "jim.db")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'jim.db'}",
                      "JIM_RATE_LIMIT_ENABLED": False, "JIM_CONNECTOR_FILES_ROOT": str(root)},
                     instance_path=str(tmp_path / "instance"))
    client, admin = app.test_client(), {"X-Api-Key": make_key(app, Role.ADMINISTRATOR)}
    os.link(tmp_path / "instance" / KEY_FILE, root / "key.csv")
    os.link(tmp_path / "jim.db", root / "store.csv")
    for given in ("key.csv", "store.csv"):
        system_id = new_system(client, admin, 1, {file.FILE_PATH.id: given})
        assert failed(client, admin, system_id, 400) == (
            f"File Path {given!r} is a link to one of the service's own files (its database or key), which no "
            f"connector reads.")
    with app.app_context():
        db.engine.dispose()


def test_a_root_link_pointed_at_the_services_own_files_after_start_is_refused(client, admin, tmp_path, root,
                                                                             file_system, app):
    (tmp_path / "root-link").symlink_to(root)
    app.config["JIM_CONNECTOR_FILES_ROOT"] = str(tmp_path / "root-link")
    write(root / "people.csv", "id\n1\n")
    assert list(imported(client, admin, file_system("people.csv"))) == ["people"]
    (tmp_path / "root-link").unlink()
    (tmp_path / "root-link").symlink_to(Path(app.instance_path).parent)
    message = failed(client, admin, file_system("people.csv"), 400)
    assert message.startswith("The connector files folder (JIM_CONNECTOR_FILES_ROOT) now holds the service's own "
                              "files (")
