"""Business rules of master data, one module per resource."""
