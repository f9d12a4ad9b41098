"""Calls keyed by CallKey, and (PostgreSQL only) the call table partitioned by billing month.

1. `logs_callkey` (request_id, customer_id) -> call: the unique key of calls across months,
   filled from the stored calls; the unique constraint on the call table goes.
2. PostgreSQL: `logs_call` becomes a table partitioned by range of created_at, one partition a
   billing month (logs.services.partitions), a default partition, primary key (id, created_at),
   the same indexes (now partitioned indexes) and foreign keys; the stored calls are copied over.
   SQLite keeps its one plain table. The foreign keys pointing at calls lose their database
   constraint first (billing 0002 runs before this one).
3. The rollups' (customer, hour) index goes: the covering rollup_overview_idx has the same key.

Not reversible on PostgreSQL (a partitioned table is not turned back into a plain one here).
"""
import django.db.models.deletion
from django.db import migrations, models

# Foreign-key columns of the call table, re-created on the partitioned table.
CALL_FKS = ("customer", "batch")


def keys_fill(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO logs_callkey (request_id, customer_id, call_id, created_at) "
        "SELECT request_id, customer_id, id, created_at FROM logs_call")


def keys_empty(apps, schema_editor):
    schema_editor.execute("DELETE FROM logs_callkey")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from logs.services.partitions import (
        DEFAULT,
        TABLE,
        indexes_create,
        months_wanted,
        partition_ensure,
        partitions_ensure,
    )
    from logs.timeutil import billing_tz

    call = apps.get_model("logs", "Call")
    ex = schema_editor.execute
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'f', 'u')",
                    [TABLE])
        constraints = [r[0] for r in cur.fetchall()]
        ex(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
        for name in constraints:
            ex(f'ALTER TABLE {TABLE}_plain DROP CONSTRAINT "{name}"')
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [f"{TABLE}_plain"])
        for (name,) in cur.fetchall():
            ex(f'DROP INDEX "{name}"')
        ex(f"ALTER TABLE {TABLE}_plain ALTER COLUMN id DROP IDENTITY IF EXISTS")
        ex(f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
           f"PARTITION BY RANGE (created_at)")
        # Identity columns on a partitioned table need PostgreSQL 17: an owned sequence instead.
        ex(f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id")
        ex(f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')")
        ex(f"SELECT setval('{TABLE}_id_seq', COALESCE((SELECT max(id) FROM {TABLE}_plain), 0) + 1, false)")
        ex(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, created_at)")
        for index in call._meta.indexes:
            schema_editor.add_index(call, index)
        for name in CALL_FKS:
            field = call._meta.get_field(name)
            ex(schema_editor._create_fk_sql(call, field, "_fk_%(to_table)s_%(to_column)s"))
        ex(f"CREATE TABLE {DEFAULT} (LIKE {TABLE} INCLUDING DEFAULTS)")
        indexes_create(DEFAULT, cur=cur)
        ex(f"ALTER TABLE {TABLE} ATTACH PARTITION {DEFAULT} DEFAULT")
        # A partition for each month the stored calls have (where wanted), and the coming ones.
        cur.execute(f"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE %s)::date FROM {TABLE}_plain",
                    [str(billing_tz())])
        first, last = months_wanted()
        for (month,) in sorted(cur.fetchall()):
            if first <= month <= last:
                partition_ensure(month, cur=cur)
        partitions_ensure()
        ex(f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_plain")
        ex(f"DROP TABLE {TABLE}_plain")
        ex(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    atomic = True

    dependencies = [
        ("logs", "0002_seed_catalog"),
    ]

    operations = [
        migrations.CreateModel(
            name="CallKey",
            fields=[
                ("pk", models.CompositePrimaryKey("request_id", "customer_id", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("request_id", models.CharField(max_length=200)),
                ("customer", models.ForeignKey(db_constraint=False, db_index=False,
                                               on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="logs.customer")),
                ("call", models.ForeignKey(db_constraint=False, db_index=False,
                                           on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                           to="logs.call")),
                ("created_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(keys_fill, keys_empty),
        migrations.RemoveConstraint(model_name="call", name="call_customer_request_uniq"),
        migrations.RemoveIndex(model_name="hourlyrollup", name="rollup_cust_hour_idx"),
        migrations.RunPython(partition),
    ]
