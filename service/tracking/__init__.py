"""Following candidates and branches: the candidate page (pipeline stage, cases, timeline, diagrams)."""
