"""The emulation scoreboard: villages scored on the plan's criteria (pure, no I/O)."""
