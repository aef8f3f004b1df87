"""The floor: what Flask and gunicorn cost with no work, served as ``gunicorn bench.floor:app``.

bench/run.py serves it under the service's own gunicorn.conf.py, so the ratio service/floor measures only
what the service adds: authentication, the database, validation and serialisation.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def floor():
    return {"status": "Healthy", "name": "floor"}
