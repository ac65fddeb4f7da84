"""Deadlines: reminders, escalation and overdue figures."""
