"""Every write of the registry goes through these services (the API, the pages and the
CLI alike); they use the shared layers (data validation, clinical converter, protocol)
and never restate a rule."""
