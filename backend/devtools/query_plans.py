"""The plans of the queries a service or selector really sends, for tests of which index serves them."""
from django.db import connection
from django.test.utils import CaptureQueriesContext


def plans_of(action, *, containing: str = "SELECT") -> list[str]:
    """Run `action()`; the database's plan of each query it sent whose SQL contains `containing`, in order."""
    with CaptureQueriesContext(connection) as captured:
        action()
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if containing in query["sql"]:
                cursor.execute(explain + query["sql"])
                plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
    return plans
