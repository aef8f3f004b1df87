"""The connector catalog: every connector the service has, by its stable id.

Each connector is one module of this package (its settings, its offline checks, its discovery); adding a
connector means adding its module and naming it here. ``init-db`` copies the catalog into the database so
that stored setting values can reference their settings; requests read it from here.
"""
from connectors import file, ldap, scim, sql
from connectors.interface import Connector

CONNECTORS: dict[int, Connector] = {
    connector.id: connector for connector in (file.CONNECTOR, sql.CONNECTOR, ldap.CONNECTOR, scim.CONNECTOR)
}
