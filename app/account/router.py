from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from app.account import export, service
from app.account.schemas import AccountDeletion
from app.auth.deps import OwnerUser
from app.auth.router import Throttle
from app.core.database import DB
from app.core.deps import AppSettings, Limiter

router = APIRouter(prefix="/api/account", tags=["account"])

EXPORT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The account's data as a ZIP file (manifest.json says what is inside)",
    }
}


@router.get("/export", response_class=FileResponse, responses=EXPORT_RESPONSES)
def export_account(
    user: OwnerUser, db: DB, settings: AppSettings, limiter: Limiter
) -> FileResponse:
    """Everything the account holds, as a ZIP download: the account, its people, chatbots,
    documents with their files, websites, conversations, usage and invoices. Owners only."""
    limiter.hit(
        settings.account_exports_per_customer,
        "account-export",
        str(user.customer_id),
        what="account",
    )
    archive = export.build(db, settings, user)
    return FileResponse(
        archive.path,
        media_type="application/zip",
        filename=archive.filename,
        background=BackgroundTask(archive.path.unlink, missing_ok=True),
    )


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def delete_account(
    body: AccountDeletion, user: OwnerUser, db: DB, settings: AppSettings, throttle: Throttle
) -> None:
    """Delete the account for good: its people, chatbots, documents, files, vectors,
    conversations and usage. Issued invoices are kept, as the law requires, without the
    account. Asks for the owner's password (403 when wrong; it counts as a sign-in attempt) and
    the account's name typed out (422 when it differs). Owners only."""
    service.delete_account(db, settings, user, body, throttle)
