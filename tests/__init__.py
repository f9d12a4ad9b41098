"""The test suite: tests/logs and tests/billing mirror the apps; browser/ drives Chromium; perf/ is `make bench`."""
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
ARTIFACTS = TESTS / "artifacts"


def keyset_walk(client, url: str, rows, *, table: str, rel: str = "next") -> tuple[list[list[str]], str]:
    """Follow a list's pager links (`rel` next or prev) from `url`: each page's rows, as `rows(html)`
    reads them, and the SQL of the queries the pages ran on the list's `table` (upper case), to
    check for OFFSET and COUNT."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    path, pages = url.split("?")[0], []
    with CaptureQueriesContext(connection) as ctx:
        while url:
            resp = client.get(url)
            assert resp.status_code == 200, url
            html = resp.content.decode()
            pages.append(rows(html))
            m = re.search(rf'href="(\?[^"]*)" rel="{rel}"', html)
            url = path + m.group(1).replace("&amp;", "&") if m else None
    return pages, " ".join(q["sql"] for q in ctx.captured_queries if f'"{table}"' in q["sql"]).upper()
