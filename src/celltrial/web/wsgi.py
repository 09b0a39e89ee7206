"""The WSGI application gunicorn serves (`celltrial serve`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "celltrial.web.settings")
application = get_wsgi_application()
