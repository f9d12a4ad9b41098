"""Demo data for `make run`: several customers, the last two months, the domain's failure mix.

Generated as call envelopes and gateway rows and fed through the one ingest path, so the
demo exercises what production does. Only runs on an empty database (or with --force).
"""
import datetime as dt
import io
import json
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from logs.management.output import Spoken
from logs.models import Call, User
from logs.services.customers import customer_ensure, customer_upsert, customer_user_create
from logs.services.ingest import calls_ingest
from logs.timeutil import billing_tz

STAFF = ("admin", "nbaudit-admin")
CUSTOMER_USER = ("acme", "nbaudit-demo")

# customer slug, name, calls a day, model mix, group ratio, enrolled, top-up factor
CUSTOMERS = [
    ("acme", "Acme Studio", 430, {"gemini-3-pro-image-preview": 0.85, "gemini-3.1-flash-image": 0.15}, "2", True, "1.15"),
    ("globex", "Globex Media", 160, {"gemini-3.1-flash-image-preview": 0.6, "gemini-3-pro-image": 0.3,
                                      "gemini-2.5-flash-image": 0.1}, "1", True, "1"),
    ("initech", "Initech Tools", 70, {"gemini-3.1-flash-lite-image": 0.5, "gemini-2.5-flash-image": 0.5}, "1", False, "1"),
]
TOKENS = ["prod-web", "prod-api", "batch", "staging"]
PEAKS = {0, 1, 9, 10, 20, 21, 22}  # Beijing hours with 503 bursts
PROMPTS = ["a red fox in the snow", "product shot of a ceramic mug", "poster with bold typography",
           "watercolor city skyline at dusk", "isometric office scene", "portrait in studio light"]


def _image(mime="image/jpeg"):
    return {"inlineData": {"mimeType": mime, "data": "x" * 64}}


def _usage(prompt, out=None, thoughts=None, image=None):
    u = {"promptTokenCount": prompt, "totalTokenCount": prompt + (out or 0) + (thoughts or 0)}
    if out is not None:
        u["candidatesTokenCount"] = out
    if thoughts:
        u["thoughtsTokenCount"] = thoughts
    if image:
        u["candidatesTokensDetails"] = [{"modality": "IMAGE", "tokenCount": image}]
    return u


def _response(kind: str, model: str, rnd: random.Random):
    pro = "pro" in model
    thoughts = rnd.randint(120, 400) if pro else None
    if kind == "success":
        parts = []
        if pro and rnd.random() < 0.5:
            parts.append({"text": "Planning the composition", "thought": True})
            parts.append({**_image(), "thought": True})
        parts.append(_image())
        return 200, {"candidates": [{"index": 0, "content": {"parts": parts, "role": "model"}, "finishReason": "STOP"}],
                     "usageMetadata": _usage(rnd.randint(15, 600), 1120 + rnd.randint(0, 200), thoughts, 1120)}
    if kind == "prompt_blocked":
        return 200, {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": _usage(30)}
    if kind == "no_charge":
        return 200, {"candidates": [{"index": 0, "content": {}, "finishReason": "IMAGE_OTHER", "finishMessage":
                     "Unable to show the generated image. You will not be charged for this request."}],
                     "usageMetadata": _usage(40, thoughts=thoughts)}
    if kind == "image_blocked":
        return 200, {"candidates": [{"index": 0, "content": {"parts": None}, "finishReason": "IMAGE_SAFETY"}],
                     "usageMetadata": _usage(35, thoughts=thoughts)}
    if kind == "no_image":
        return 200, {"candidates": [{"index": 0, "content": {"parts": []}, "finishReason": "NO_IMAGE"}],
                     "usageMetadata": _usage(25, thoughts=thoughts)}
    if kind == "text_refusal":
        return 200, {"candidates": [{"index": 0, "content": {"parts": [{"text": "I'm unable to help with this task."}],
                     "role": "model"}, "finishReason": "STOP"}], "usageMetadata": _usage(18, 12, thoughts)}
    if kind == "empty_output":
        return 200, {"candidates": [], "usageMetadata": _usage(25)}
    if kind == "rate_limited":
        return 429, {"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED"}}
    if kind == "overloaded":
        return 503, {"error": {"code": 503, "message": "The model is overloaded. Please try again later.",
                               "status": "UNAVAILABLE"}}
    if kind == "server_error":
        return 500, {"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}
    if kind == "bad_request":
        return 400, {"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}
    return 0, None  # timeout


def _kind(rnd: random.Random, hour_bj: int) -> str:
    r = rnd.random()
    burst = 0.06 if hour_bj in PEAKS else 0.004
    if r < burst:
        return "overloaded"
    r = rnd.random()
    for kind, p in (("rate_limited", 0.025), ("server_error", 0.003), ("timeout", 0.004), ("bad_request", 0.002),
                    ("text_refusal", 0.012), ("image_blocked", 0.01), ("no_image", 0.006), ("prompt_blocked", 0.006),
                    ("no_charge", 0.004), ("empty_output", 0.003)):
        if r < p:
            return kind
        r -= p
    return "success"


def _charge(model: str, kind: str, status: int, ratio: Decimal) -> str | None:
    if status != 200:
        return "0"
    if "pro" in model:
        return str(Decimal("0.05") * ratio)
    if kind == "success":
        return "0.067480" if "3.1" in model and "lite" not in model else ("0.038705" if "2.5" in model else "0.022")
    if kind in ("prompt_blocked", "no_charge"):
        return "0"
    return "0.000040"


class Command(Spoken, BaseCommand):
    help = "Load demo data (customers, two months of calls, demo logins) into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="load even if there are calls")
        parser.add_argument("--days", type=int, default=61)
        parser.add_argument("--scale", type=float, default=1.0, help="multiply the calls a day")
        parser.add_argument("--no-logins", action="store_true",
                            help="do not print the demo logins (bin/run-all prints them once the server answers)")
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")
        parser.add_argument("--url", default=None, help="the address the logins are for (with --logins)")

    def handle(self, *args, **o):
        if o["logins"]:  # only where the demo loaded them (a real database has none)
            if User.objects.filter(username__in=[STAFF[0], CUSTOMER_USER[0]]).count() == 2:
                self._print_logins(url=o.get("url"))
            return
        self._quiet_logins = o["no_logins"]
        self._logins()
        if Call.objects.exists() and not o["force"]:
            self.stdout.write(_("Demo data: the database has calls already; nothing loaded."))
            self._print_logins()
            return
        rnd = random.Random(20261121)
        tz = billing_tz()
        today = dt.datetime.now(tz).date()
        first_day = today - dt.timedelta(days=o["days"])
        for slug, name, per_day, mix, ratio, enrolled, factor in CUSTOMERS:
            customer_upsert(slug=slug, name=name, enroll_from=dt.date(2026, 5, 1) if enrolled else None,
                            topup_factor=factor)
            buf = io.StringIO()
            n = 0
            for d in range(o["days"] + 1):
                day = first_day + dt.timedelta(days=d)
                count = int(per_day * o["scale"] * rnd.uniform(0.8, 1.2))
                for _i in range(count):
                    hour = rnd.choices(range(24), weights=[3, 2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 7, 7, 7, 7, 6,
                                                           6, 7, 8, 8, 7, 5])[0]
                    when = dt.datetime.combine(day, dt.time(hour, rnd.randint(0, 59), rnd.randint(0, 59)), tzinfo=tz)
                    if when > dt.datetime.now(tz):
                        continue
                    model = rnd.choices(list(mix), weights=list(mix.values()))[0]
                    kind = _kind(rnd, hour)
                    status, response = _response(kind, model, rnd)
                    n += 1
                    env = {
                        "request_id": f"{slug}-{when:%Y%m%d}-{n:07d}", "created_at": when.isoformat(),
                        "customer": slug, "model": model, "token_name": rnd.choice(TOKENS), "route": "gateway",
                        "http_status": status, "latency_ms": int(rnd.lognormvariate(10.4 if "pro" in model else 9.6, 0.35)),
                        "image_size": rnd.choice(["1K", "1K", "2K", "4K"] if "pro" in model else ["512", "1K", "1K", "2K"]),
                        "group_ratio": ratio, "charged_usd": _charge(model, kind, status, Decimal(ratio)),
                        "prompt": rnd.choice(PROMPTS) + ("" if kind == "success" else f" #{rnd.randint(1, 40)}"),
                    }
                    if response is None:
                        env["error"] = "timeout"
                    else:
                        env["response"] = response
                    buf.write(json.dumps(env) + "\n")
            with transaction.atomic():
                batch = calls_ingest(source=buf.getvalue().encode(), fmt="calls", origin="demo",
                                     filename=f"demo-{slug}.ndjson")
            self.stdout.write(_("Demo data: %(slug)s: %(n)s calls") % {"slug": slug, "n": batch.inserted})
        self._print_logins()

    def _logins(self):
        acme, _created = customer_ensure(slug="acme", name="Acme Studio")
        if not User.objects.filter(username=STAFF[0]).exists():
            User.objects.create_superuser(STAFF[0], password=STAFF[1], email="")
        if not User.objects.filter(username=CUSTOMER_USER[0]).exists():
            customer_user_create(customer=acme, username=CUSTOMER_USER[0], password=CUSTOMER_USER[1])

    def _print_logins(self, url=None):
        if getattr(self, "_quiet_logins", False):
            return
        self.stdout.write("")
        self.stdout.write("  " + _("nbaudit demo logins (%(url)s):") % {"url": url or "http://127.0.0.1:8000/"})
        self.stdout.write("    " + _("staff:    %(user)s / %(password)s") % {"user": STAFF[0], "password": STAFF[1]})
        self.stdout.write("    " + _("customer: %(user)s / %(password)s  (sees Acme Studio only)")
                          % {"user": CUSTOMER_USER[0], "password": CUSTOMER_USER[1]})
        self.stdout.write("")
