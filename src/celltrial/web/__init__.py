"""The Django project of the registry server: settings, URLs, the JSON API and its auth."""
