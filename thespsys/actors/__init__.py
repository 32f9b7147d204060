"""Thespian actors: each receives a message, asks the plain objects of
``thespsys.engine`` what to do, applies it and reports. Messages, prompts and
the one door to Thespian (``thespian_adapter``) live here too."""
