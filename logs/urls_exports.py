from django.urls import path

from logs import views_exports as v

urlpatterns = [
    path("exports/new", v.export_new, name="export_new"),
    path("tasks/", v.tasks, name="tasks"),
    path("tasks/<int:pk>/status", v.task_status, name="task_status"),
    path("tasks/<int:pk>/download", v.task_download, name="task_download"),
    path("tasks/<int:pk>/retry", v.task_retry, name="task_retry"),
    path("tasks/<int:pk>/cancel", v.task_cancel, name="task_cancel"),
]
