from django.db import models, transaction
from django.db.models import Q

from logs.choices import BillingMode, Category, Family, LogType, Source
from logs.money import money_field


class CallQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        """Calls and their keys (`CallKey`) in one transaction: a key already taken fails it all."""
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise ValueError("Call.objects.bulk_create: conflicts are decided on CallKey (logs.services.calls_copy)")
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            made = super().bulk_create(objs, *args, **kwargs)
            CallKey.objects.using(self.db).bulk_create(
                [CallKey(customer_id=c.customer_id, request_id=c.request_id, call_id=c.pk, created_at=c.created_at)
                 for c in made], batch_size=kwargs.get("batch_size"))
        return made


class Call(models.Model):
    """One call to a model: one row per (customer, request ID), held by its `CallKey`.

    On PostgreSQL the table is partitioned by billing month of `created_at` (migration 0003,
    `logs.services.partitions`): its primary key there is (id, created_at), and no unique index
    can hold (customer, request ID) across months, so the key table does.
    """

    objects = CallQuerySet.as_manager()

    # No index of its own: every call index starts with customer (the unique key included). No
    # database constraint either, as `batch` below: each one was a check per ingested row at commit
    # (about an eighth of an ingest's time); Django still applies on_delete (PROTECT, SET_NULL),
    # and every writer takes the customer from a row it has just read or made (docs/scaling.md).
    customer = models.ForeignKey("logs.Customer", on_delete=models.PROTECT, related_name="calls", db_index=False,
                                 db_constraint=False)
    request_id = models.CharField(max_length=200)
    request_id_synthetic = models.BooleanField(
        default=False, help_text="The export had no request ID: the key is (time, token, model, cost)."
    )
    created_at = models.DateTimeField()
    model = models.CharField(max_length=200, help_text="As the caller sent it.")
    family = models.CharField(max_length=16, choices=Family.choices, blank=True)
    token_name = models.CharField(max_length=200, blank=True)
    route = models.CharField(max_length=64, blank=True)
    group = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    log_type = models.CharField(max_length=16, choices=LogType.choices, blank=True)
    http_status = models.SmallIntegerField(null=True, blank=True)
    finish_reason = models.CharField(max_length=64, blank=True)
    block_reason = models.CharField(max_length=64, blank=True)
    finish_message = models.TextField(blank=True)
    error_text = models.TextField(blank=True, help_text="Error message, client error or export details.")
    prompt_tokens = models.IntegerField(null=True, blank=True)
    output_tokens = models.IntegerField(null=True, blank=True)
    thoughts_tokens = models.IntegerField(null=True, blank=True)
    total_tokens = models.IntegerField(null=True, blank=True)
    image_tokens = models.IntegerField(null=True, blank=True)
    images = models.SmallIntegerField(default=0)
    drafts = models.SmallIntegerField(default=0)
    image_size = models.CharField(max_length=32, blank=True)
    latency_ms = models.IntegerField(null=True, blank=True)
    charged_usd = money_field(null=True, blank=True)
    group_ratio = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    billing_mode = models.CharField(max_length=16, choices=BillingMode.choices, blank=True)
    expected_usd = money_field(null=True, blank=True, help_text="From the dated catalog; empty when unpriced.")
    category = models.CharField(max_length=16, choices=Category.choices)
    reason = models.CharField(max_length=300, help_text="The signal that decided the category.")
    channel_id = models.IntegerField(
        "channel", null=True, blank=True, help_text="The gateway's upstream channel the call was routed to (staff only).")
    prompt_fingerprint = models.CharField(max_length=64, blank=True)
    prompt = models.TextField(blank=True)
    response = models.JSONField(null=True, blank=True, help_text="Raw response, image data elided.")
    # Not indexed: nothing reads calls by batch, and each index costs every ingested row.
    batch = models.ForeignKey(
        "logs.IngestBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        db_constraint=False,
    )
    ingested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Each index is justified in docs/scaling.md (Index set) by the query that uses it.
        indexes = [
            # keyset paging: (created_at, id) descending, per customer and for staff
            # charged_usd included: a tally's spend (the sum over a customer-month) is an index-only
            # scan of that customer's entries, not a scan of the month's partition (every customer's calls).
            models.Index(fields=["customer", "-created_at", "-id"], name="call_cust_time_idx",
                         include=["charged_usd"]),
            # Ascending, read backwards for newest first: an ingest of recent calls appends at its
            # right edge, which PostgreSQL inserts into without a descent (half the cost of the
            # descending one it replaced, whose new entries went to its left edge).
            models.Index(fields=["created_at", "id"], name="call_time_idx"),
            # The category and HTTP-status filters index the rare values only: failures, and
            # statuses other than 200 (a few % of calls, so a few % of an ingest's index work). A
            # filter on success, or on 200, walks call_cust_time_idx, where it is most calls;
            # `calls_filter` states the failure condition that lets the planner use the first.
            models.Index(fields=["customer", "category", "-created_at", "-id"], name="call_cust_cat_idx",
                         condition=~Q(category="success")),
            models.Index(fields=["customer", "family", "-created_at", "-id"], name="call_cust_fam_idx"),
            models.Index(fields=["customer", "token_name", "-created_at", "-id"], name="call_cust_tok_idx"),
            models.Index(
                fields=["customer", "-created_at", "-id"], condition=~Q(category="success"),
                name="call_cust_failed_idx",
            ),
            # Logs page filters on an exact model name (dashboard)
            models.Index(fields=["customer", "model", "-created_at", "-id"], name="call_cust_model_idx"),
            models.Index(fields=["customer", "http_status", "-created_at", "-id"], name="call_cust_status_idx",
                         condition=Q(http_status__lt=200) | Q(http_status__gt=200)),
        ]

    def __str__(self):
        return f"{self.customer_id}/{self.request_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            return super().save(*args, **kwargs)
        with transaction.atomic(using=kwargs.get("using") or self._state.db, savepoint=False):
            super().save(*args, **kwargs)
            CallKey.objects.using(self._state.db).create(
                customer_id=self.customer_id, request_id=self.request_id, call_id=self.pk, created_at=self.created_at)

    @property
    def failed(self) -> bool:
        return self.category != Category.SUCCESS


class CallKey(models.Model):
    """(customer, request ID) -> its call: the one unique key of calls, across every month.

    A partitioned table's unique index must include the partition key (created_at), so the
    same request ID at two times could land in two months' partitions; this narrow table is the
    key instead, written in the same transaction as the call (`Call.save`, `Call.objects.
    bulk_create`, the ingest's `logs.services.calls_copy.calls_insert`). Its primary key is
    (request_id, customer_id): the ingest's and the request-ID filter's look-up, with or without
    a customer. `created_at` is the call's, so a join to the call reads one partition.
    No database-level foreign keys (PostgreSQL cannot reference a partitioned table by id alone).
    """

    pk = models.CompositePrimaryKey("request_id", "customer_id")
    request_id = models.CharField(max_length=200)
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False, db_index=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False)
    created_at = models.DateTimeField()

    def __str__(self):
        return f"{self.customer_id}/{self.request_id} -> {self.call_id}"


# Latency buckets for the percentiles on rollups: upper bounds in ms (the last is open).
LATENCY_BUCKETS_MS = (1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 45000,
                      60000, 90000, 120000, 180000, 300000, None)


class HourlyRollup(models.Model):
    """Calls per hour, customer, model, token, image size, category and channel: what the charts read."""

    hour = models.DateTimeField()
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=16, blank=True)
    model = models.CharField(max_length=200)
    token_name = models.CharField(max_length=200, blank=True)
    image_size = models.CharField(max_length=32, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    http_status = models.SmallIntegerField(null=True, blank=True)
    # The gateway's upstream channel (staff only): failures broken down by it on the Overview.
    channel_id = models.IntegerField(null=True, blank=True)
    calls = models.IntegerField(default=0)
    images = models.IntegerField(default=0)
    charged_usd = money_field(default=0)
    latency_count = models.IntegerField(default=0)
    latency_sum_ms = models.BigIntegerField(default=0)
    for _i in range(len(LATENCY_BUCKETS_MS)):
        locals()[f"lat_{_i:02d}"] = models.IntegerField(default=0)
    del _i

    class Meta:
        # (customer, hour) alone is not indexed apart: the covering index below has the same key.
        # Hour first, then the customer: the staff pages' and the estimate's hour ranges over
        # every customer, and (with the customer) a write's probe of one customer's hour, which
        # the planner may take this narrow index for (with the hour alone it walked every
        # customer's rows of the hour: docs/scaling.md, Index set).
        indexes = [models.Index(fields=["hour", "customer"], name="rollup_hour_idx"),
                   # The Overview's reads, index-only on PostgreSQL: (customer, hour) covering
                   # what the charts sum (dashboard).
                   models.Index(fields=["customer", "hour"], name="rollup_overview_idx",
                                include=["category", "family", "model", "token_name", "image_size", "channel_id",
                                         "calls", "images", "charged_usd",
                                         *[f"lat_{i:02d}" for i in range(len(LATENCY_BUCKETS_MS))]])]

    @classmethod
    def bucket_fields(cls):
        return [f"lat_{i:02d}" for i in range(len(LATENCY_BUCKETS_MS))]


BUCKET_FIELDS = [f"lat_{i:02d}" for i in range(len(LATENCY_BUCKETS_MS))]
# What the coarse rollups' covering indexes carry beside their keys.
_COARSE_FIGURES = ["family", "category", "image_size", "calls", "images", "charged_usd", *BUCKET_FIELDS]


class CoarseFigures(models.Model):
    """The figures a coarse rollup row sums (those of `HourlyRollup`): calls, images, spend and
    the latency buckets of delivered calls by image size."""

    family = models.CharField(max_length=16, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    # Delivered rows only ('' on failures): the latency chart is by image size over delivered calls.
    image_size = models.CharField(max_length=32, blank=True)
    calls = models.IntegerField(default=0)
    images = models.IntegerField(default=0)
    charged_usd = money_field(default=0)
    latency_count = models.IntegerField(default=0)
    latency_sum_ms = models.BigIntegerField(default=0)
    for _i in range(len(LATENCY_BUCKETS_MS)):
        locals()[f"lat_{_i:02d}"] = models.IntegerField(default=0)
    del _i

    class Meta:
        abstract = True

    @classmethod
    def bucket_fields(cls):
        return list(BUCKET_FIELDS)


# The hours of a billing day, in that zone: a day's row keeps its calls per hour of the day.
DAY_HOURS = 24
HOUR_FIELDS = [f"h_{_i:02d}" for _i in range(DAY_HOURS)]


class DayFigures(CoarseFigures):
    """A coarse rollup row summed over a billing day (in `NBAUDIT_BILLING_TZ`), with the calls
    of each hour of the day (`h_00`..`h_23`, local hours: the heatmap's cells). Its `hour` is
    the day's first hour (its start, in UTC), so the filters on hours narrow days as they
    narrow hours."""

    hour = models.DateTimeField()
    for _i in range(DAY_HOURS):
        locals()[f"h_{_i:02d}"] = models.IntegerField(default=0)
    del _i

    class Meta:
        abstract = True


class CoarseRollup(CoarseFigures):
    """Hourly rollups of a customer coarsened to what the Overview charts: per hour, family and
    category, delivered calls by image size (their latency). Failures by gateway channel (staff
    only) are `CoarseChannelRollup`.

    A projection of `HourlyRollup` (model, API key, HTTP status and channel summed away; the
    image size kept on delivered rows only), so a customer-hour holds a few dozen rows at most
    whatever the calls' density. Written only by `logs.services.rollups`, recomputed from the
    customer's fine rows in the same transaction and under the same lock as each write of them;
    the Overview reads it unless an exact model or an API key is chosen.
    """

    hour = models.DateTimeField()
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        # Both covering: the Overview's reads are index-only scans on PostgreSQL (docs/scaling.md).
        indexes = [
            models.Index(fields=["customer", "hour"], name="coarse_cust_hour_idx", include=_COARSE_FIGURES),
            models.Index(fields=["hour", "customer"], name="coarse_hour_idx", include=_COARSE_FIGURES),
        ]


class ChannelFigures(models.Model):
    """What a row of failures by channel counts: failed calls of a family and category through
    a gateway channel (staff only)."""

    family = models.CharField(max_length=16, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    channel_id = models.IntegerField(null=True, blank=True)
    calls = models.IntegerField(default=0)

    class Meta:
        abstract = True


class CoarseChannelRollup(ChannelFigures):
    """A customer's failed calls per hour, family, category and gateway channel: the projection
    of its failed `HourlyRollup` rows, written with `CoarseRollup` (staff's failures by channel)."""

    hour = models.DateTimeField()
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["customer", "hour"], name="coarse_chan_cust_hour_idx",
                         include=["family", "category", "channel_id", "calls"]),
            models.Index(fields=["hour", "customer"], name="coarse_chan_hour_idx",
                         include=["family", "category", "channel_id", "calls"]),
        ]


class CoarseDailyRollup(DayFigures):
    """A customer's coarse rollups summed per billing day (`DayFigures`): what its Overview over
    whole billing days reads instead of 24 times as many hourly rows. Recomputed from its
    coarse rows of the days a write touched, in the same transaction and under the same lock
    as that write (`logs.services.rollups._coarse_recompute`), so exact whenever they are."""

    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["customer", "hour"], name="coarse_day_cust_idx")]


class CoarseDailyChannelRollup(ChannelFigures):
    """A customer's failures by channel per billing day (`hour`: the day's first hour): its
    `CoarseChannelRollup` rows summed per day, written with them (staff's failures by channel)."""

    hour = models.DateTimeField()
    customer = models.ForeignKey("logs.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        indexes = [models.Index(fields=["customer", "hour"], name="coarse_chan_day_cust_idx")]


class AllCustomersRollup(CoarseFigures):
    """The coarse rollups of every customer summed per hour, family, category and image size
    (delivered rows): what staff's "all customers" Overview reads, a few dozen rows per hour
    however many customers and calls. Failures by channel are `AllCustomersChannelRollup`.

    Written by one writer only, `logs.services.rollups.all_customers_fold`, from the coarse rows
    of the hours `AllCustomersStale` marks (the marks a write of coarse rows leaves in its own
    transaction). A marked hour is read from the coarse rows instead, so the figures are exact
    before a fold as after it.
    """

    hour = models.DateTimeField()

    class Meta:
        # Covering: staff's Overview reads are index-only scans on PostgreSQL (docs/scaling.md).
        indexes = [models.Index(fields=["hour"], name="allcust_hour_idx", include=_COARSE_FIGURES)]


class AllCustomersChannelRollup(ChannelFigures):
    """Failed calls of every customer per hour, family, category and gateway channel: staff's
    "all customers" failures by channel. Written with `AllCustomersRollup`, by the same fold."""

    hour = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="allcust_chan_hour_idx",
                                include=["family", "category", "channel_id", "calls"])]


class AllCustomersDailyRollup(DayFigures):
    """Staff's all-customers rollups summed per billing day, family, category and image size
    (`DayFigures`): what a range of whole billing days reads instead of 24 times as many hourly
    rows (the periods, the latency and, from the hours of the day, the heatmap).

    Written with `AllCustomersRollup`, by the same fold and from its rows
    (`logs.services.rollups.all_customers_days_refresh`), in the same transaction. A marked
    hour (`AllCustomersStale`) is read as its all-customers rows taken away from its day's and
    its coarse rows added (`logs.selectors.rollups.all_customers_parts`).
    """

    class Meta:
        indexes = [models.Index(fields=["hour"], name="allcust_day_idx")]


class AllCustomersDailyChannelRollup(ChannelFigures):
    """Failed calls of every customer per billing day, family, category and gateway channel:
    `AllCustomersChannelRollup` summed per day (`hour`: the day's first hour), written with it."""

    hour = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["hour"], name="allcust_chan_day_idx")]


class AllCustomersStale(models.Model):
    """An hour whose coarse rollups changed since `AllCustomersRollup` summed them: a row per
    write (no unique key, so writers never wait on each other), deleted by the fold that sums it."""

    hour = models.DateTimeField(db_index=True)


class RollupVersion(models.Model):
    """A customer's rollup version: one more in the same transaction as each write of its rollups.

    Its row is also the lock that serializes those writes: `logs.services.rollups` updates it
    first, so a second writer waits for the first one's commit and then sees its rollups.
    Cached Overview figures are keyed by it (`logs.selectors.rollups`).
    """

    customer = models.OneToOneField("logs.Customer", primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.customer_id} v{self.version}"
