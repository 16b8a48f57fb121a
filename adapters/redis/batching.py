"""Concurrent calls of one Lua script, sent together: one write and one read for all the
calls that became ready in the same event-loop turn.

A cap check alone goes out on the next loop turn, as before. Under load, when many are
ready at once, they share one round trip's system calls instead of paying for one each:
on a small machine those calls cost more than the scripts themselves. Each call is still
its own EVALSHA, atomic on its own; batching changes no outcome, only the I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

MAX_BATCH = 128

_Call = tuple[Sequence[Any], Sequence[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    def __init__(self, redis: Redis, script: AsyncScript, max_batch: int = MAX_BATCH) -> None:
        self._redis = redis
        self._script = script
        self._max_batch = max_batch
        self._pending: list[_Call] = []
        self._running: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if len(self._pending) == 1:
            # Every call that arrives before this callback runs joins the same batch.
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self._max_batch):
            task = asyncio.ensure_future(self._send(pending[start : start + self._max_batch]))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _send(self, calls: list[_Call]) -> None:
        # A caller that gave up (its deadline passed) is not sent at all.
        calls = [call for call in calls if not call[2].done()]
        if not calls:
            return
        try:
            replies = await self._replies(calls)
        except BaseException as exc:  # the connection failed: every caller hears of it
            for _, _, future in calls:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (keys, args, future), reply in zip(calls, replies, strict=True):
            if isinstance(reply, NoScriptError):
                # Redis lost the script (restart, SCRIPT FLUSH): this call loads it again.
                try:
                    reply = await self._script(keys=keys, args=args)
                except Exception as exc:
                    reply = exc
            if future.done():
                continue
            if isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _replies(self, calls: list[_Call]) -> list[Any]:
        if len(calls) == 1:
            keys, args, _ = calls[0]
            try:
                return [await self._script(keys=keys, args=args)]
            except NoScriptError as exc:  # pragma: no cover (AsyncScript reloads it itself)
                return [exc]
        pipe = self._redis.pipeline(transaction=False)
        for keys, args, _ in calls:
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
