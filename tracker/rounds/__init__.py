"""Evaluation rounds (item 20): lifecycle (lifecycle.py), the formal-check list (checklist.py), expert score sheets
(scoresheet.py), the round as a whole (summary.py). docs/rounds.md tells the procedure with a worked example."""
