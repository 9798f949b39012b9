"""The village heads' reports: the form conversation, numbers as typed, the reminders."""
