"""gunicorn's settings for this service, chosen deliberately; each may be overridden on the command line.

gunicorn reads this file itself, so the variables here are gunicorn's (PORT, WEB_CONCURRENCY), not the app's.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Each worker holds its own connection pool; two per core keeps both cores busy while one waits on disk.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30  # a request stuck longer than this is killed and its worker replaced
graceful_timeout = 20
keepalive = 5
# Request-line and header limits: a request larger than a JIM client ever sends is refused before Flask.
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
control_socket_disable = True  # one control socket per user would clash between instances on one machine
