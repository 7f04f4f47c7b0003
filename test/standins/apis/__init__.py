"""The Google services google_apis.py stands in for, one module each (see google_apis.py)."""
