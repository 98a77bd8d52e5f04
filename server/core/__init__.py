"""Cross-cutting, domain-free building blocks."""
