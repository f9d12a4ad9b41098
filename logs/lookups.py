"""Lookups of our own."""
from django.db.models import DateTimeField, Lookup, QuerySet
from django.db.models.sql import Query


@DateTimeField.register_lookup
class Among(Lookup):
    """`field__among=<values() queryset>`: the field is one of the few values the subquery returns
    (the marked hours). Elsewhere `IN (SELECT ...)`; on PostgreSQL `= ANY(ARRAY(SELECT ...))`,
    whose subquery runs once first (an InitPlan) and whose values are probed in the field's
    index. The planner guesses the size of `IN (SELECT ...)` from the subquery table's
    statistics, which a table emptied every minute rarely has right: with 30 marked hours and
    the default guess it took a parallel scan of every all-customers channel row of 30 days
    (82 ms at 5M calls), where the probes take 7 ms (docs/scaling.md, the staff Overview)."""

    lookup_name = "among"

    def get_prep_lookup(self):
        if not isinstance(self.rhs, (QuerySet, Query)):  # a list would make `IN %s`: say so at once
            raise TypeError("__among takes a values() queryset of one field (use __in for a list)")
        return super().get_prep_lookup()

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
