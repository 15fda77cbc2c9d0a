"""Withdrawing what was published before a protection arrived: publications, index, service."""
