"""complyd: a server for the AWS Systems Manager Compliance API."""

__version__ = "0.1.0"
