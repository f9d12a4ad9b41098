"""Fewer index entries per ingested call (docs/scaling.md, Index set).

- The call table's two foreign-key constraints go (customer, batch): Django still applies their
  on_delete; each was a check per ingested row at commit.
- `call_time_idx` ascending (read backwards): an ingest of recent calls appends at its right edge.
- `call_cust_cat_idx` holds failures only, `call_cust_status_idx` statuses other than 200 only.

On PostgreSQL each partition's copy of a new index is then named `<partition>_<index>`, as
`logs.services.partitions.indexes_create` names those of partitions made later.
"""
import django.db.models.deletion
from django.db import migrations, models

NEW = ("call_time_idx", "call_cust_cat_idx", "call_cust_status_idx")


def name_partition_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from logs.services.partitions import partition_indexes_name

    with schema_editor.connection.cursor() as cur:
        for index in NEW:
            partition_indexes_name(index, cur=cur)


class Migration(migrations.Migration):

    dependencies = [
        ('logs', '0009_spend_index_only'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='call',
            name='call_time_idx',
        ),
        migrations.RemoveIndex(
            model_name='call',
            name='call_cust_cat_idx',
        ),
        migrations.RemoveIndex(
            model_name='call',
            name='call_cust_status_idx',
        ),
        migrations.AlterField(
            model_name='call',
            name='batch',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='logs.ingestbatch'),
        ),
        migrations.AlterField(
            model_name='call',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='calls', to='logs.customer'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(fields=['created_at', 'id'], name='call_time_idx'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(condition=models.Q(('category', 'success'), _negated=True), fields=['customer', 'category', '-created_at', '-id'], name='call_cust_cat_idx'),
        ),
        migrations.AddIndex(
            model_name='call',
            index=models.Index(condition=models.Q(('http_status__lt', 200), ('http_status__gt', 200), _connector='OR'), fields=['customer', 'http_status', '-created_at', '-id'], name='call_cust_status_idx'),
        ),
        migrations.RunPython(name_partition_indexes, migrations.RunPython.noop),
    ]
