"""Redis adapters: live cap counters and reservations (Lua), and the client arq shares."""
