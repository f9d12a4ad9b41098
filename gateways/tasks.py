"""Celery tasks of gateways: the beat's sync of every due source, and one source's sync now."""
from celery import shared_task


@shared_task(name="gateways.tasks.gateways_sync", acks_late=False, ignore_result=True,
             soft_time_limit=50 * 60, time_limit=55 * 60)
def gateways_sync() -> dict:
    """Every enabled source whose backoff has passed, one sync each (a busy one is skipped)."""
    from gateways.services.sync import sources_sync_due, syncs_reap

    result = sources_sync_due()
    result["reaped"] = syncs_reap()
    return result


@shared_task(name="gateways.tasks.gateway_sync", acks_late=False, ignore_result=True)
def gateway_sync(source_id: int, user_id: int | None = None) -> None:
    """One source now ("sync now" on the staff page): load it by id and run the sync service."""
    from gateways.models import GatewaySource
    from gateways.services.sync import SyncBusy, source_sync
    from logs.models import User

    source = GatewaySource.objects.filter(pk=source_id).first()
    if source is None:
        return
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        source_sync(source=source, origin="page", user=user)
    except SyncBusy:
        pass
