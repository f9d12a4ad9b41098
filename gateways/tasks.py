"""Celery tasks of gateways: the beat's sync of every due source, and one source's sync."""
from celery import shared_task


@shared_task(name="gateways.tasks.gateways_sync", ignore_result=True)
def gateways_sync() -> dict:
    """The beat, about once a minute: one sync task per enabled source whose backoff has passed
    (a source still syncing refuses the second: its lease), and the sync rows of dead workers reaped."""
    from gateways.services.sync import sources_due, syncs_reap

    queued = []
    for source in sources_due():
        gateway_sync.delay(source.pk)
        queued.append(source.name)
    return {"queued": queued, "reaped": syncs_reap()}


@shared_task(name="gateways.tasks.gateway_sync", ignore_result=True, acks_late=False,
             soft_time_limit=6 * 3600, time_limit=6 * 3600 + 300)
def gateway_sync(source_id: int, user_id: int | None = None) -> str:
    """One source's sync: load it by id and run the sync service (busy: left to the sync holding it)."""
    from gateways.models import GatewaySource
    from gateways.services.sync import SyncBusy, source_sync
    from logs.models import User

    source = GatewaySource.objects.filter(pk=source_id).first()
    if source is None:
        return "gone"
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return source_sync(source=source, origin="page" if user else "beat", user=user).status
    except SyncBusy:
        return "busy"
