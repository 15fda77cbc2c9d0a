"""disclosure-guard: keeps events about people protected by 8 U.S.C. 1367 off a public feed."""

__version__ = "1.0.0"
