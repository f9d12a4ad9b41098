from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("logs", "0006_exportjob_tz"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="language",
            field=models.CharField(
                blank=True, max_length=16,
                help_text="Language of pages, exports and emails (en, zh-hans); empty: the browser's."),
        ),
        migrations.AddField(
            model_name="exportjob",
            name="language",
            field=models.CharField(
                blank=True, max_length=16,
                help_text="The requester's language: the header row and Summary sheet (en, zh-hans)."),
        ),
    ]
