"""The web app: a JSON API under ``/api`` and the offline dashboard, from one process.

Users, tokens, runs and the audit log live in the observation store's database (migration
0002), so one URL (SQLite file or PostgreSQL) holds everything; run outputs are folders on disk.
"""
