"""The month calendar: what falls due across every process (tasks, timers, pack-declared dates, terms
ending, campaign deadlines) for the cases a user may see — a page (/calendar?month=2026-12), the JSON
API (GET /api/v1/calendar?month=) and a panel on the home page of the general branches' secretaries."""
