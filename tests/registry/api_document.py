"""The API's OpenAPI document, read once, and the simplest valid request value of any
of its schemas: what the tests that enumerate every route build their requests from."""

from __future__ import annotations

import json

from django.test import Client

DOCUMENT = json.loads(Client(HTTP_HOST="localhost").get("/api/openapi.json").content)


def operations() -> list[tuple[str, str]]:
    """(METHOD, path template) of every route."""
    return [
        (method.upper(), path) for path, methods in DOCUMENT["paths"].items() for method in methods
    ]


def resolved(schema: dict) -> dict:
    if "$ref" in schema:
        return DOCUMENT["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def example(schema: dict, name: str, obj) -> object:
    """The simplest valid value of a schema; a version is the object's own, so that a
    route that leaked the object would act on it."""
    schema = resolved(schema)
    if name == "version":
        return getattr(obj, "version", 1)
    if "const" in schema or "enum" in schema:
        return schema.get("const", (schema.get("enum") or [None])[0])
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return example(options[0], name, obj)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: example(props[k], k, obj) for k in schema.get("required", [])}
    if kind == "string":
        if schema.get("format") == "date":
            return "2020-01-02"
        return "2020-01-02T08:00:00" if "T\\d" in schema.get("pattern", "") else "x"
    return {"integer": 1, "number": 1.0, "boolean": True, "array": []}[kind]
