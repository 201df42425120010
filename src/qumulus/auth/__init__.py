"""Authentication and authorization policy: key format, principals, roles. Pure: no I/O here."""
