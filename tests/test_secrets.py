"""Secrets at rest: a StringEncrypted value reaches the database only sealed, and is shown only as hasValue."""
from sqlalchemy import event, select

from conftest import SYSTEMS
from database import db
from models import SettingValue

SYSTEM = f"{SYSTEMS}/1"
PASSWORDS = ("s3cur3p@ssw0rd", "n3wp@ss")


def test_a_secret_reaches_the_database_only_sealed(app, client, admin, ldap_system):
    sent = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        sent.append(f"{statement} {parameters!r}")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for password in (*PASSWORDS, PASSWORDS[-1]):  # set, change, send again
            answer = client.put(SYSTEM, json={"settingValues": {"3": {"stringValue": password}}}, headers=admin)
            assert answer.status_code == 200
            assert answer.json["settingValues"]["3"]["hasValue"] is True
            assert password not in answer.get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    assert any("connected_system_setting_values" in statement for statement in sent)
    assert not [statement for statement in sent for password in PASSWORDS if password in statement]
    with app.app_context():
        stored = db.session.scalar(select(SettingValue.secret_value).where(SettingValue.setting_id == 3))
        assert PASSWORDS[-1] not in stored.token
        assert stored.reveal() == PASSWORDS[-1]
