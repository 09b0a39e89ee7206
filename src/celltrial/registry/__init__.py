"""The registry: a live study in a database (Django app). Models mirror the StudyData
schema; every write goes through registry.services, which use the shared layers."""
