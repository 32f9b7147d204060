"""Thespian actors: thin dispatchers around the plain objects that do the work."""
