"""Staff upload of input files; the batch page shows progress, then the summary and every rejected line."""
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy

from logs.forms.ingest import UploadForm
from logs.models import IngestBatch
from logs.scoping import staff_only
from logs.selectors.jobs import job_status
from logs.services.ingest import ingest_upload_create
from logs.tables.ingest import IngestBatchTable
from logs.views.base import keyset_list

PER_PAGE = 25
# A customer's user who opens these gets the branded 403, not the admin's login form.
staff_ingest = staff_only(gettext_lazy("Uploading log files is for the gateway's staff."))


@staff_ingest
def ingest_upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        batch = ingest_upload_create(uploaded_file=d["file"], fmt=d["format"], customer=d["customer"],
                                     tz=d["tz"] or None, user=request.user)
        return redirect("logs:ingest_batch", pk=batch.pk)
    batches = IngestBatch.objects.select_related("customer")
    return render(request, "logs/ingest_upload.html", {
        "form": form, **keyset_list(request, batches, table_class=IngestBatchTable, per_page=PER_PAGE,
                                    noun="batch", nouns="batches")})


@staff_ingest
def ingest_batch(request, pk):
    batch = get_object_or_404(IngestBatch.objects.select_related("customer", "created_by"), pk=pk)
    return render(request, "logs/ingest_batch.html", {"batch": batch, "summary": batch.summary()})


@staff_ingest
def ingest_batch_status(request, pk):
    batch = get_object_or_404(IngestBatch, pk=pk)
    return JsonResponse(job_status(batch))
