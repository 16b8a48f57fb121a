"""LLMObserve SDK: what your LLM calls cost, per customer and agent, with spending caps.

>>> import llmobserve
>>> llmobserve.observe(collector_url="http://localhost:8000", api_key="llmo_sk_...")
>>> llmobserve.set_customer_id("cus_123")
"""

from ._api import flush, observe, shutdown, stats
from ._context import agent, current_attribution, customer, reset_attribution, set_customer_id, tags
from ._errors import CapCheckUnavailable, LLMObserveError, SpendingCapExceeded
from ._usage import Usage

__version__ = "0.1.0"

__all__ = [
    "CapCheckUnavailable",
    "LLMObserveError",
    "SpendingCapExceeded",
    "Usage",
    "__version__",
    "agent",
    "current_attribution",
    "customer",
    "flush",
    "observe",
    "reset_attribution",
    "set_customer_id",
    "shutdown",
    "stats",
    "tags",
]
