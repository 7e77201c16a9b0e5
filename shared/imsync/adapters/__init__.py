"""The only modules that import a vendor SDK."""
