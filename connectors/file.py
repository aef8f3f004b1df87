"""The File connector (id 1): a delimited text file inside JIM_CONNECTOR_FILES_ROOT."""
from connectors.interface import Connector, Deadline, DiscoveredSchema, Refused, Setting, Settings
from connectors.interface import SettingType as S

FILE_PATH = Setting(101, "File Path", S.FILE, True, "The path of the file to read or write.")
DELIMITER = Setting(102, "Delimiter", S.STRING, False, "The column delimiter.", ",")
MULTI_VALUE_DELIMITER = Setting(103, "Multi-Value Delimiter", S.STRING, False,
                                "The delimiter between values of one column.", "|")
OBJECT_TYPE = Setting(104, "Object Type", S.STRING, False, "The object type every row describes.")


def discover_schema(settings: Settings, deadline: Deadline) -> DiscoveredSchema:
    raise Refused("The File connector cannot import a schema yet.")


CONNECTOR = Connector(
    1,
    "JIM File Connector",
    "Imports from and exports to delimited text files.",
    (
        FILE_PATH,
        DELIMITER,
        MULTI_VALUE_DELIMITER,
        OBJECT_TYPE,
        Setting(105, "Stop On First Error", S.CHECKBOX, False, "Stop an import at its first bad row.", False),
    ),
    discover_schema,
)
