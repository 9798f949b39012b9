"""The campaign's plan: its model and checker, its periods, and when the bot speaks first."""
