"""System management: tenants, organizations, roles, users, login and OTP (SPEC 0–1)."""
