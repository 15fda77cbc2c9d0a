"""Synthetic protected people, checked continuously: proof that protection works right now."""
