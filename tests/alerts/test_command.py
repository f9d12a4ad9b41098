"""`manage.py alert add / evaluate --json / list`, as operators and tests use them."""
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from alerts.models import AlertRule
from tests import factories as f

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("alert", *args, stdout=out)
    return out.getvalue()


def test_add_evaluate_json_and_list(settings):
    settings.NBAUDIT_WEBHOOK_ALLOW_PRIVATE = True
    acme = f.customer("acme")
    out = run("add", "acme-fg", "--kind", "failed_generation_rate", "--customer", "acme", "--window", "30",
              "--threshold", "0.2", "--min-calls", "5", "--email", "ops@acme.example", "--email", "cto@acme.example",
              "--webhook", "http://127.0.0.1:9/hook", "--webhook-secret", "s", "--webhook-format", "wecom")
    assert out.startswith("created rule 'acme-fg'")
    rule = AlertRule.objects.get(name="acme-fg")
    assert rule.emails == ["ops@acme.example", "cto@acme.example"] and rule.webhook_format == "wecom"
    assert run("add", "acme-fg", "--kind", "failed_generation_rate", "--customer", "acme", "--window", "30",
               "--threshold", "0.3", "--min-calls", "5").startswith("updated rule")
    for i in range(6):
        f.call(acme, created_at=timezone.now() - dt.timedelta(minutes=3, seconds=i), category="no_image")
    result = json.loads(run("evaluate", "--json"))
    assert set(result) == {"opened", "reminded", "resolved"}
    [item] = result["opened"]
    assert item["rule"] == "acme-fg" and item["customer"] == "acme"
    assert item["figures"]["calls"] == 6 and item["figures"]["matching"] == 6
    listing = run("list")
    assert "acme-fg\tfailed_generation_rate\tacme" in listing and "1 open incidents" in listing


@pytest.mark.parametrize("args,message", [
    (["--threshold", "2"], "a rate is a fraction from 0 to 1"),
    (["--threshold", "x"], "is not a number"),
    (["--threshold", "0.2", "--email", "nope"], "is not an email address"),
    (["--threshold", "0.2", "--webhook", "http://127.0.0.1/x"], "private, loopback or link-local"),
    (["--threshold", "0.2", "--customer", "nobody"], "no customer 'nobody'"),
])
def test_bad_values_are_refused_in_words(args, message, settings):
    settings.NBAUDIT_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(CommandError, match=message):
        run("add", "r", "--kind", "failed_generation_rate", "--window", "60", *args)
