"""The application: settings, the wiring of everything (bootstrap) and the command line."""
