"""Persistence: the Store protocol and its SQLAlchemy Core implementation."""
