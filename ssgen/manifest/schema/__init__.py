"""The manifest's layout and rows, as one import for the manifest's readers and writers.

A package by what each part owns: ``ddl`` the SQLite layout (DDL, ``SCHEMA_VERSION``,
``TAG_SCHEME``, the application id, ``prepare``: create or verify on open), ``records``
the row records and their conversions (``PageRecord``, ``FileRecord``, ``Failure``,
``page_row``, ``page_record``, the JSON codec, ``chunks``), ``writes`` the statements that
write page rows and their tag rows (``record_one``, ``record_bulk``, ``tx_statements``).
PostgreSQL's tables: ``pg``.
"""

from __future__ import annotations

from ssgen.manifest.schema.ddl import (
    APPLICATION_ID,
    DDL,
    FILES_INDEX,
    HISTORY_DDL,
    LINKS_DDL,
    SCHEMA_VERSION,
    TABLES,
    TAG_SCHEME,
    prepare,
)
from ssgen.manifest.schema.records import (
    CHUNK,
    FILE_KINDS,
    PAGE_SELECT,
    Failure,
    FileRecord,
    PageRecord,
    chunks,
    dumps,
    loads,
    page_record,
    page_row,
)
from ssgen.manifest.schema.writes import (
    DELETE_TAG,
    INSERT_TAG,
    UPSERT_PAGE,
    record_bulk,
    record_one,
    tx_statements,
)

__all__ = [
    "APPLICATION_ID", "CHUNK", "DDL", "DELETE_TAG", "FILES_INDEX", "FILE_KINDS",
    "HISTORY_DDL", "INSERT_TAG", "LINKS_DDL", "PAGE_SELECT", "SCHEMA_VERSION", "TABLES",
    "TAG_SCHEME", "UPSERT_PAGE", "Failure", "FileRecord", "PageRecord", "chunks", "dumps",
    "loads", "page_record", "page_row", "prepare", "record_bulk", "record_one",
    "tx_statements",
]
