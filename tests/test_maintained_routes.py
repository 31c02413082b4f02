"""Every query of the bundled default site (and of the ``ssgen init`` starter) runs
maintained in serve's kept source, and ``ssgen inspect --routes`` says which do not and why."""

from __future__ import annotations

import json
from pathlib import Path

from sitekit import run_cli

from ssgen.build.inspect import route_queries
from ssgen.config.load import load_config

REPO = Path(__file__).resolve().parent.parent


def test_every_query_of_the_default_site_runs_maintained() -> None:
    rows = route_queries(load_config(REPO))
    assert {row["route"] for row in rows} >= {"home", "post", "blog", "author", "category"}
    assert [row for row in rows if not row["maintained"]] == []
    # The author and category pages' post lists are patched per change, not re-run.
    kept = {(row["route"], sub["name"]) for row in rows for sub in row["subqueries"]
            if sub["maintained"]}
    assert kept >= {("author", "posts"), ("category", "posts")}
    assert [sub for row in rows for sub in row["subqueries"] if not sub["maintained"]] == []


def test_inspect_routes_names_the_reason(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "templates").mkdir(parents=True)
    (site / "templates" / "x.html").write_text("{{ page }}")
    (site / "ssgen.toml").write_text(
        '[site]\ntitle = "t"\n[source]\ntype = "local"\n'
        '[[routes]]\nname = "soon"\npath = "/"\ntemplate = "x.html"\n'
        "query = '*[_type == \"post\" && publishedAt < now()]'\n"
        '[[routes]]\nname = "all"\npath = "/all/"\ntemplate = "x.html"\n'
        "query = '*[_type == \"post\"]{title}'\n"
        '[[routes]]\nname = "authors"\npath = "/a/"\ntemplate = "x.html"\n'
        "query = '*[_type == \"author\"]{\"n\": count(*[references(^._id)]), "
        "\"all\": *[_type == \"post\"]._id}'\n")
    result = run_cli("--site", str(site), "inspect", "--routes")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "now()" in text and "all" in text
    rows = json.loads(run_cli("--site", str(site), "inspect", "--routes", "--json").stdout)
    by_route = {row["route"]: row for row in rows["queries"]}
    assert by_route["soon"]["maintained"] is False and "now()" in by_route["soon"]["reason"]
    assert by_route["all"] == {"route": "all", "query": "query", "maintained": True,
                               "reason": None, "subqueries": []}
    subs = {sub["name"]: sub for sub in by_route["authors"]["subqueries"]}
    assert subs["n"] == {"name": "n", "maintained": True, "reason": None}
    assert subs["all"]["maintained"] is False and "^" in subs["all"]["reason"]
    assert "kept per outer document" in text and "evaluated again" in text
