"""The planted-defect rule files fail on purpose: never collect them when a directory is walked.

tests/test_properties.py checks them directly; name one file on the command
line (``pytest tests/planted/farm.whuf``) to see its report as a pytest item.
"""

collect_ignore_glob = ["*.whuf"]
