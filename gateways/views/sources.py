"""Staff page "Gateways": every source with its state, lag and last error, its actions, recent syncs."""
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gateways.forms import SourceActionForm
from gateways.models import GatewaySource
from gateways.selectors import sources_list, syncs_recent
from gateways.services.sync import source_pause
from gateways.tables import SyncTable


@staff_member_required
def source_list(request):
    return render(request, "gateways/sources.html", {
        "sources": sources_list(), "table": SyncTable(syncs_recent()),
    })


@staff_member_required
@require_POST
def source_action(request, pk):
    from gateways.tasks import gateway_sync

    source = get_object_or_404(GatewaySource, pk=pk)
    form = SourceActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown action."))
        return redirect("gateways:sources")
    action = form.cleaned_data["action"]
    if action == "sync":
        user_id = request.user.pk
        transaction.on_commit(lambda: gateway_sync.delay(source.pk, user_id))
        messages.success(request, _("A sync of %(name)s is queued; its row appears below.") % {"name": source.name})
    else:
        source_pause(source=source, enabled=action == "resume")
        messages.success(request, (_("%(name)s is resumed.") if action == "resume" else _("%(name)s is paused."))
                         % {"name": source.name})
    return redirect("gateways:sources")
