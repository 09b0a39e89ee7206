"""Registry pages (issue 12): server-rendered views over the same services as the API."""
