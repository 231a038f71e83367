"""The API root. Each app adds its own router in its api.py."""

from ninja import NinjaAPI

api = NinjaAPI(title="openiom API", version="1", urls_namespace="api")
