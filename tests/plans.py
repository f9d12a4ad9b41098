"""Reading PostgreSQL's EXPLAIN (FORMAT JSON) plans in the tests that check which index a query uses."""


def plan_nodes(plan: dict):
    """The node `plan` and every node under it, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)
