"""Seed the price catalog (billing.md): valid from 2025-01-01, no end; staff edit it in the admin."""
import datetime
from decimal import Decimal as D

from django.db import migrations

START = datetime.date(2025, 1, 1)
# (family, route, mode, per_request, input/M, image output/M, text output/M, note)
ROWS = [
    ("pro", "", "per_request", D("0.05"), None, None, None, "Gateway default: Pro per request"),
    ("pro", "google-standard", "per_token", None, D("2"), D("120"), D("12"), "Google standard rate"),
    ("pro", "vertex", "per_token", None, D("2"), D("120"), D("12"), "Google standard rate (Vertex)"),
    ("pro", "google-batch", "per_token", None, D("2"), D("60"), D("6"), "Google Batch/Flex: half output"),
    ("nb2", "", "per_token", None, D("0.5"), D("60"), D("3"), "Google standard rate"),
    ("nb2", "google-batch", "per_token", None, D("0.5"), D("30"), D("1.5"), "Google Batch/Flex: half output"),
    ("legacy", "", "per_token", None, D("0.3"), D("30"), D("2.5"), "Google standard rate (text: Gemini 2.5 Flash)"),
    ("legacy", "google-batch", "per_token", None, D("0.3"), D("15"), D("1.25"), "Google Batch/Flex: half output"),
]


def seed(apps, schema_editor):
    PriceRow = apps.get_model("logs", "PriceRow")
    for family, route, mode, per_req, inp, img, txt, note in ROWS:
        PriceRow.objects.get_or_create(
            family=family, model="", route=route, valid_from=START,
            defaults=dict(billing_mode=mode, per_request_usd=per_req, input_per_m_usd=inp,
                          output_image_per_m_usd=img, output_text_per_m_usd=txt, note=note),
        )


class Migration(migrations.Migration):
    dependencies = [("logs", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
