from __future__ import annotations

import asyncio
import threading

import llmobserve
import pytest
from llmobserve import current_attribution


def test_customer_agent_and_tags_nest_and_unwind() -> None:
    with llmobserve.customer("cus_1"), llmobserve.agent("planner"):
        with llmobserve.agent("research_agent"), llmobserve.tags(env="prod", team="a"):
            inner = current_attribution()
            with llmobserve.tags(team="b"):
                assert current_attribution().tags == {"env": "prod", "team": "b"}
        outer = current_attribution()
    assert inner.customer_id == "cus_1"
    assert inner.agent_path == "planner/research_agent"
    assert inner.tags == {"env": "prod", "team": "a"}
    assert outer.agent_path == "planner"
    assert current_attribution().agent_path is None
    assert current_attribution().customer_id is None


def test_agent_decorates_sync_and_async_functions() -> None:
    @llmobserve.agent("worker")
    def sync_path() -> str | None:
        return current_attribution().agent_path

    @llmobserve.agent("planner")
    async def async_path() -> tuple[str | None, str | None]:
        return current_attribution().agent_path, await asyncio.to_thread(sync_path)

    assert sync_path() == "worker"
    assert asyncio.run(async_path()) == ("planner", "planner/worker")
    assert current_attribution().agent_path is None


def test_set_customer_id_is_private_to_each_thread() -> None:
    seen: dict[str, str | None] = {}

    def work(name: str) -> None:
        llmobserve.set_customer_id(name)
        barrier.wait()
        seen[name] = current_attribution().customer_id

    barrier = threading.Barrier(4)
    threads = [threading.Thread(target=work, args=(f"cus_{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {f"cus_{i}": f"cus_{i}" for i in range(4)}
    assert current_attribution().customer_id is None


def test_asyncio_tasks_keep_their_own_customer() -> None:
    async def task(name: str) -> str | None:
        llmobserve.set_customer_id(name)
        await asyncio.sleep(0.01)
        return current_attribution().customer_id

    async def main() -> list[str | None]:
        return list(await asyncio.gather(*(task(f"cus_{i}") for i in range(5))))

    assert asyncio.run(main()) == [f"cus_{i}" for i in range(5)]


def test_set_customer_id_token_restores_the_previous_value() -> None:
    token = llmobserve.set_customer_id("cus_9")
    assert current_attribution().customer_id == "cus_9"
    llmobserve.reset_attribution(token)
    assert current_attribution().customer_id is None


def test_agent_name_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="empty"):
        llmobserve.agent("/")
