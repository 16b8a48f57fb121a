"""`POST /webhooks/clerk`: Clerk's user, organization and membership events, through Svix.

400 for a bad or stale signature (nothing written); 409 for a message id already
applied (a replay: nothing written); 200 otherwise, also for event types we ignore.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from application.auth_ports import WebhookVerifier
from application.clerk_sync import ClerkSync, SyncOutcome
from entrypoints.http.errors import ErrorBody, error_response


class WebhookOut(msgspec.Struct):
    status: str


@post(
    "/webhooks/clerk",
    tags=["auth"],
    summary="Clerk events (Svix-signed)",
    opt={"exclude_from_auth": True},
    status_code=200,
)
async def clerk_webhook(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    verifier: WebhookVerifier | None = state.container.webhook_verifier()
    if verifier is None:
        raise NotFoundException()  # CLERK_WEBHOOK_SECRET unset: no Clerk webhooks here
    message = verifier.verify(await request.body(), dict(request.headers))
    if message is None:
        bad: Response[ErrorBody] = error_response(400, "invalid webhook signature")
        return bad
    sync: ClerkSync = state.container.clerk_sync()
    outcome = await sync.apply(message)
    if outcome is SyncOutcome.REPLAY:
        replay: Response[ErrorBody] = error_response(409, "this message was delivered already")
        return replay
    return Response(WebhookOut(outcome.value))
