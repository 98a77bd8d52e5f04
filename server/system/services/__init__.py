"""Business rules of system management, one module per resource."""
