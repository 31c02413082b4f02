"""Schema 4 on PostgreSQL: a version-3 database gets the sitemap and link tables from
migration step 4 and then serves ``build --check`` like SQLite does."""

from __future__ import annotations

from pathlib import Path

import psycopg
from sitekit import make_site

from ssgen.build.linkcheck import link_options
from ssgen.build.pipeline import build
from ssgen.config.load import load_config
from ssgen.manifest import schema
from ssgen.manifest.connect import open_state
from ssgen.manifest.schema.pg import _LEADER_DDL, pg_ddl


def test_migration_4_adds_the_link_tables(pg_url: str, tmp_path: Path) -> None:
    v3 = schema.DDL.replace(schema.LINKS_DDL, "").replace(schema.HISTORY_DDL, "")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE ssgen_migrations (version INTEGER PRIMARY KEY,"
                     " applied DOUBLE PRECISION NOT NULL)")
        for statement in [*pg_ddl(v3), *_LEADER_DDL]:
            conn.execute(statement)  # type: ignore[arg-type]
        conn.execute("INSERT INTO meta VALUES ('schema', '3')")
        conn.execute("INSERT INTO ssgen_migrations VALUES (3, 0)")
    open_state(Path("."), pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM ssgen_migrations")]
        assert versions == [3, 4, 5]  # 5: the path history (redirects)
    site = make_site(tmp_path)
    config = load_config(site, env={"SSGEN_STATE_URL": pg_url})
    build(config, full=True)
    report = build(config, check=link_options(config))
    assert report.links is not None and report.links.ok and report.links.total == 3
    with open_state(site / ".ssgen", pg_url) as state:
        assert state.link_file_count() == 3
        assert state.lastmods() == {}
