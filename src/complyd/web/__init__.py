"""HTTP edge: the Starlette application that serves the API and health checks."""
