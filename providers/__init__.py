"""Vendor adapters behind one interface (base), one folder per provider, and the provider table
(table, spec: what each provider is, as stdlib data every layer may read). Imports nothing of ours.

Vendor folders export nothing: the table imports each one's ``spec``, and must stay free of SDKs."""
