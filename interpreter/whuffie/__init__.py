"""whuffie: a rule language for community scores that hides nothing."""

__version__ = "0.1.0"
