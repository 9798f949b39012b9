"""Good-deed nominations: the quick flow, review and stages, the radio bulletin."""
