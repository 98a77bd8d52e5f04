"""Credit lines (SPEC 3): accounts granted by the parent org, their ledger, freezes, and the
recharge and adjustment documents."""
