"""Scheduled jobs (reminders, digests) arrive here; nothing is scheduled yet."""
