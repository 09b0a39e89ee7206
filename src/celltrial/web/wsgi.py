"""The WSGI application gunicorn serves (`celltrial serve`)."""

import os

import polars as pl
from django.core.wsgi import get_wsgi_application

# The server's queries hold one participant's rows, where the streaming engine's fixed
# start-up (~0.15 ms a query, measured on Polars 2.1) is most of the time: a write's checks
# took 44 ms streaming, 35 ms in memory (bench/registry_load.py measures the server)
pl.Config.set_engine_affinity("in-memory")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "celltrial.web.settings")
application = get_wsgi_application()
