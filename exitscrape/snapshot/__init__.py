"""The bundled snapshot: an offline replica of the Exit Practices site, and a server for it."""
