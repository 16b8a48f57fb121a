"""Accounts adapters: password hashing, Clerk tokens and webhooks, rate limits, storage."""
