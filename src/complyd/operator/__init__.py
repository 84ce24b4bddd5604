"""Operator commands: read, import and export a complyd database from the shell.

Everything here goes through ComplianceService and the Store (keyset pages, the API's own
validation), never around them.
"""
