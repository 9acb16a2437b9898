from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from mutualist.accounts.access import acting_user
from mutualist.imports import access, actions
from mutualist.imports.models import ImportRun
from mutualist.imports.schemas import ImportRunDetailOut, ImportRunOut
from mutualist.lib.pagination import PagePagination

router = Router(tags=["imports"])


@router.post("/imports", response={202: ImportRunOut})
def start_import(
    request: HttpRequest,
    kind: Form[str],
    files: File[list[UploadedFile]],
    dry_run: Form[bool] = False,
    strict: Form[bool] = False,
    config: File[UploadedFile] | None = None,
    mapping: File[UploadedFile] | None = None,
) -> Any:
    """Upload CSV files and start an import in the background; poll GET /imports/{id}."""
    access.require_can_import(request.user)
    with transaction.atomic():
        run = actions.queue_import(
            acting_user(request),
            kind,
            [(f.name or "upload.csv", f.read()) for f in files],
            dry_run=dry_run,
            strict=strict,
            config=config.read() if config else None,
            mapping=mapping.read() if mapping else None,
        )
    run.refresh_from_db()
    return Status(202, run)


@router.get("/imports", response=list[ImportRunOut])
@paginate(PagePagination)
def list_imports(request: HttpRequest) -> Any:
    return access.runs_visible_to(request.user)


@router.get("/imports/{run_id}", response=ImportRunDetailOut)
def get_import(request: HttpRequest, run_id: int) -> ImportRun:
    return access.get_run_for(request.user, run_id)
