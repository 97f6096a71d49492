"""`gatehouse serve`: Gatehouse over HTTP, beside the dashboard, on the same core (SCIM 2.0 now, a REST API later)."""
