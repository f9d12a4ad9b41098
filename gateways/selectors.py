"""Reads of gateways: the sources with their state, and a source's recent syncs."""
from gateways.models import GatewaySource, GatewaySync

RECENT_SYNCS = 20


def sources_list():
    return GatewaySource.objects.order_by("name")


def source_get(*, pk: int) -> GatewaySource:
    return GatewaySource.objects.get(pk=pk)


def syncs_recent(*, source: GatewaySource | None = None, limit: int = RECENT_SYNCS):
    qs = GatewaySync.objects.select_related("source", "batch").order_by("-created_at", "-id")
    if source is not None:
        qs = qs.filter(source=source)
    return qs[:limit]
