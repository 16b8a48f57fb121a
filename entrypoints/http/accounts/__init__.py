"""Accounts over HTTP: local sign-in, Clerk, tenants, members, and who the caller is."""
