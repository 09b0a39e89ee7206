"""REDCap in and out: the data dictionary, the record export (flat or longitudinal, raw or
labelled), the event/instrument designations, the project XML (CDISC ODM 1.3.2 with
REDCap's extensions), the mapping YAML that turns them into StudyData, and the export that
turns a study back into files REDCap imports."""

from celltrial.data.redcap.build import Imported, import_redcap
from celltrial.data.redcap.dictionary import Dictionary, read_dictionary
from celltrial.data.redcap.mapping import Mapping, MappingError, load_mapping
from celltrial.data.redcap.project import Project, read_csv_project
from celltrial.data.redcap.records import read_records

__all__ = [
    "Dictionary",
    "Imported",
    "Mapping",
    "MappingError",
    "Project",
    "import_redcap",
    "load_mapping",
    "read_csv_project",
    "read_dictionary",
    "read_records",
]
