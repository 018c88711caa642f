"""The instance folder's housekeeping: files with personal data go once their retention period is over."""
from datetime import timedelta

from flask import current_app
from huey import crontab

from registry.core import background_files, import_jobs
from registry.core.tasks import periodic


@periodic(crontab(hour="3", minute="10"), name="registry.purge_files")
def purge_expired_files() -> tuple[int, int]:
    """Import folders and exported files (batch certificates, large lists) past REGISTRY_IMPORT_RETENTION_DAYS and
    REGISTRY_EXPORT_RETENTION_DAYS: (folders, files) removed. The caller commits (a job still waiting for
    its commit fails, saying why)."""
    config = current_app.config
    folders = import_jobs.purge_expired(timedelta(days=config["IMPORT_RETENTION_DAYS"]))
    files = background_files.purge_expired(timedelta(days=config["EXPORT_RETENTION_DAYS"]))
    return folders, files
