"""django-background-tasks with the primary-key type its own migrations created.

The project's DEFAULT_AUTO_FIELD (BigAutoField) would otherwise make `makemigrations`
see a change in the library's models and write a migration into site-packages.
"""
from background_task.apps import BackgroundTasksAppConfig


class BackgroundTaskConfig(BackgroundTasksAppConfig):
    default_auto_field = "django.db.models.AutoField"
