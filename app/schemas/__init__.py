"""Pydantic schemas at the HTTP edge, one module per resource (XCreate / XRead / XUpdate / XList)."""
