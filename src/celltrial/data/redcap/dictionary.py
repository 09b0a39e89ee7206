"""The REDCap data dictionary CSV (Project Setup > Data Dictionary, or the API's metadata
export): one row per field, with its form, type, choices and validation.

REDCap writes the long headers below; the API writes the short names beside them. Both are
read. The first field of the dictionary is the record id (REDCap's rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from celltrial.data.csv_table import read_csv_table
from celltrial.data.findings import ERROR, concat_findings, empty_findings, finding_rows
from celltrial.data.read_error import StudyReadError

# REDCap data dictionary headers (REDCap 14 "Download the current Data Dictionary") and the
# API metadata export's names for the same columns
HEADERS: dict[str, str] = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Section Header": "section_header",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
    "Field Note": "field_note",
    "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
    "Text Validation Min": "text_validation_min",
    "Text Validation Max": "text_validation_max",
    "Identifier?": "identifier",
    "Branching Logic (Show field only if...)": "branching_logic",
    "Required Field?": "required_field",
    "Custom Alignment": "custom_alignment",
    "Question Number (surveys only)": "question_number",
    "Matrix Group Name": "matrix_group_name",
    "Matrix Ranking?": "matrix_ranking",
    "Field Annotation": "field_annotation",
}
NEEDED = ("field_name", "form_name", "field_type")
# REDCap's field types (REDCap 14 Data Dictionary documentation, "Field Type" column)
FIELD_TYPES = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "file",
    "slider",
    "descriptive",
    "sql",
)
CHOICE_TYPES = ("dropdown", "radio", "checkbox")
# fixed choices of yes/no and true/false fields (REDCap stores 1 and 0)
FIXED_CHOICES = {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}
NO_DATA_TYPES = ("descriptive",)  # shown on a form, never exported as a column


@dataclass(frozen=True)
class Dictionary:
    """Fields in dictionary order: field_name, form_name, field_type, field_label,
    select_choices_or_calculations, text_validation_type_or_show_slider_number, ... and
    `_row`, the file's 1-based data row of each field."""

    fields: pl.DataFrame
    file: str
    findings: pl.DataFrame = field(default_factory=empty_findings)

    @property
    def record_id(self) -> str:
        return str(self.fields["field_name"][0])

    @property
    def forms(self) -> list[str]:
        return self.fields["form_name"].unique(maintain_order=True).to_list()

    def types(self) -> dict[str, str]:
        return dict(self.fields.select("field_name", "field_type").iter_rows())

    def validations(self) -> dict[str, str | None]:
        v = "text_validation_type_or_show_slider_number"
        return dict(self.fields.select("field_name", v).iter_rows())

    def forms_of(self) -> dict[str, str]:
        return dict(self.fields.select("field_name", "form_name").iter_rows())

    def choices(self) -> pl.DataFrame:
        """(field_name, code, label) of every choice field, yes/no and true/false included.
        Choices are written '1, Male | 2, Female': the code ends at the first comma."""
        listed = (
            self.fields.filter(pl.col("field_type").is_in(CHOICE_TYPES))
            .select(
                "field_name",
                pl.col("select_choices_or_calculations").fill_null("").str.split("|").alias("c"),
            )
            .explode("c")
            .with_columns(pl.col("c").str.splitn(",", 2).alias("p"))
            .select(
                "field_name",
                pl.col("p").struct.field("field_0").str.strip_chars().alias("code"),
                pl.col("p").struct.field("field_1").str.strip_chars().alias("label"),
            )
            .filter(pl.col("code").str.len_bytes() > 0)
        )
        fixed = [
            (name, code, label)
            for name, kind in self.types().items()  # dictionary fields, not data rows
            if kind in FIXED_CHOICES
            for code, label in FIXED_CHOICES[kind]
        ]
        extra = pl.DataFrame(fixed, schema=listed.schema, orient="row")
        return pl.concat([listed, extra])

    def record_columns(self) -> list[str]:
        """The columns a record export has for these fields: checkbox fields as one
        `field___code` column per choice, each form's `<form>_complete` after its fields."""
        boxes = self.choices().filter(pl.col("field_name").is_in(self._of_type("checkbox")))
        box_columns: dict[str, list[str]] = {}
        for name, code in boxes.select("field_name", "code").iter_rows():  # choices
            box_columns.setdefault(name, []).append(checkbox_column(name, code))
        out: list[str] = []
        forms = self.forms_of()
        for i, (name, kind) in enumerate(self.types().items()):  # dictionary fields
            if kind in NO_DATA_TYPES:
                continue
            out += box_columns.get(name, []) if kind == "checkbox" else [name]
            nxt = self.fields["form_name"][i + 1] if i + 1 < self.fields.height else None
            if nxt != forms[name]:
                out.append(f"{forms[name]}_complete")
        return out

    def _of_type(self, kind: str) -> list[str]:
        return self.fields.filter(pl.col("field_type") == kind)["field_name"].to_list()


def checkbox_column(field_name: str, code: str) -> str:
    """REDCap's export column of one checkbox choice: field___code, the code lower-cased
    with characters other than letters, digits and _ written as _ (REDCap 14 exports)."""
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in code.lower())
    return f"{field_name}___{safe}"


def read_dictionary(path: str | Path) -> Dictionary:
    """Read a data dictionary CSV; a file that is not one is refused (StudyReadError)."""
    file = Path(path)
    if not file.is_file():
        raise StudyReadError(f"{file}: no such file (expected a REDCap data dictionary CSV)")
    table = read_csv_table(file, "dictionary", list(HEADERS), [])
    frame = table.frame.rename({c: c.strip() for c in table.frame.columns})
    frame = frame.rename({c: HEADERS[c] for c in frame.columns if c in HEADERS})
    absent = [n for n in NEEDED if n not in frame.columns]
    if absent:
        long = {v: k for k, v in HEADERS.items()}
        names = ", ".join(f"'{long[n]}'" for n in absent)
        raise StudyReadError(f"{file}: not a REDCap data dictionary (no column {names})")
    for name in HEADERS.values():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Utf8).alias(name))
    rows = table.rows if table.rows is not None else pl.int_range(1, frame.height + 1, eager=True)
    frame = frame.select([pl.col(n).str.strip_chars() for n in HEADERS.values()]).with_columns(
        pl.Series("_row", rows, dtype=pl.Int64)
    )
    frame = frame.with_columns(pl.col("field_type").str.to_lowercase())
    return dictionary_from_fields(frame, file, table.findings)


def dictionary_from_fields(
    frame: pl.DataFrame, file: Path, found: pl.DataFrame | None = None
) -> Dictionary:
    """The dictionary of a fields frame (HEADERS' short names and `_row`), checked."""
    if frame.height == 0:
        raise StudyReadError(f"{file}: the data dictionary lists no fields")
    checks = _checks(frame, file)
    return Dictionary(
        frame, str(file), concat_findings([empty_findings() if found is None else found, checks])
    )


def _checks(frame: pl.DataFrame, file: Path) -> pl.DataFrame:
    def hits(mask: pl.Expr, column: str, value: pl.Expr, rule: str) -> pl.DataFrame:
        return finding_rows(
            frame,
            mask,
            severity=ERROR,
            table="dictionary",
            column=column,
            value=value,
            rule=rule,
            file=str(file),
            row=pl.col("_row"),
        )

    name = pl.col("field_name")
    kind = pl.col("field_type")
    return concat_findings(
        [
            hits(name.is_null(), "Variable / Field Name", name, "field without a name"),
            hits(
                name.is_duplicated() & name.is_not_null(),
                "Variable / Field Name",
                name,
                "field name appears more than once (REDCap field names are unique)",
            ),
            hits(
                ~kind.is_in(FIELD_TYPES),
                "Field Type",
                kind,
                f"not a REDCap field type ({', '.join(FIELD_TYPES)})",
            ),
            hits(
                kind.is_in(CHOICE_TYPES)
                & pl.col("select_choices_or_calculations").fill_null("").str.contains(",").not_(),
                "Choices, Calculations, OR Slider Labels",
                pl.col("select_choices_or_calculations"),
                "a choice field needs choices written 'code, label | code, label'",
            ),
        ]
    )
