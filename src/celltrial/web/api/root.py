"""The NinjaAPI object every router is added to."""

from ninja import NinjaAPI

api = NinjaAPI(title="CellTrial registry", version="1", urls_namespace="api")
