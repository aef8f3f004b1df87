"""The connector catalog: every connector the service has, by its stable id.

Each connector is one package in this one (its settings in its ``__init__``, its discovery beside them;
``checks`` applies the settings' declared rules); adding a connector means adding its package and naming it
here. ``init-db`` copies the catalog into the database so
that stored setting values can reference their settings; requests read it from here.
"""
from connectors import file, ldap, scim, sql
from connectors.interface import Connector

CONNECTORS: dict[int, Connector] = {
    connector.id: connector for connector in (file.CONNECTOR, sql.CONNECTOR, ldap.CONNECTOR, scim.CONNECTOR)
}
