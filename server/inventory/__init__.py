"""Inventory (SPEC 4 intro, 4.1, 4.2): the stock ledger and the inbound/outbound documents."""
