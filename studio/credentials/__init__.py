"""Content credentials (C2PA): the certificate the studio signs with, the manifest each published
file carries, and reading one back to say what it proves.

Only :mod:`studio.credentials.c2pa_adapter` imports the vendor SDK (``c2pa-python``); the rest
builds plain dicts and reads plain dicts, so it is tested without signing anything.
"""
