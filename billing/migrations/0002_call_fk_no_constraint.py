"""The foreign keys to logs.Call lose their database constraint before logs 0003 partitions the
call table (PostgreSQL cannot reference a partitioned table by id alone); Django keeps the
relations and their on_delete."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0001_initial"),
        ("logs", "0002_seed_catalog"),
    ]
    run_before = [("logs", "0003_call_partitions")]

    operations = [
        migrations.AlterField(
            model_name="tallyoverride",
            name="call",
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to="logs.call"),
        ),
        migrations.AlterField(
            model_name="reconciliationitem",
            name="call",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="logs.call"),
        ),
    ]
