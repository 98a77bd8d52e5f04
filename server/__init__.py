"""Weifu: after-sales service network management."""
