"""Field types of the API: what the database and Polars can hold, so no request can make
the server fail (bounded integers and text, finite numbers, no NUL, naive times)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

INT64 = (-(2**63), 2**63 - 1)  # SQLite INTEGER and PostgreSQL bigint
ID_MAX = 2**63 - 1
TEXT_MAX = 10_000  # characters in one text field; a whole request is capped at 2.5 MB
# PostgreSQL text cannot hold NUL (\x00); no clinical field needs it
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX, pattern=r"^[^\x00]*$")]
ID_TEXT_MAX = 100  # an id or code in a query string; keeps URLs under gunicorn's 4094 bytes
Key = Annotated[str, StringConstraints(max_length=ID_TEXT_MAX, pattern=r"^[^\x00]*$")]
Int64 = Annotated[int, Field(ge=INT64[0], le=INT64[1])]
Version = Annotated[int, Field(ge=1, le=2**31 - 1)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("give the clinic's local time without a time zone (2019-03-04T09:30)")
    return value


# RFC 3339 date-time (OpenAPI "format: date-time") needs a zone; clinic times have none
LOCAL_TIME_SCHEMA = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
    "description": "local date and time without a zone, ISO 8601 (2019-03-04T09:30:00)",
}
Naive = Annotated[dt.datetime, AfterValidator(_naive), WithJsonSchema(LOCAL_TIME_SCHEMA)]
LocalTime = Annotated[dt.datetime, WithJsonSchema(LOCAL_TIME_SCHEMA)]  # in responses
