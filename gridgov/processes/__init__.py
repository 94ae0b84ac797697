"""Processes: what spans workflows. A process calls workflow apps' services and selectors, never their
models; it sits between insights and the workflow apps (import contracts in pyproject.toml).

- `visit_cases`: visit finding → case (visits → cases intake);
- `mediation_referral`: case → mediation referral (转调解), checked (cases selectors → mediation_register);
- `points_feed`: the points feed (cases and visits facts → the workforce points hook), run by Celery beat.

A talk-day matter becoming a proposal (说事日 → 提事) is not here: the talk day and the proposal are both
deliberation's (`deliberation.services.proposal_raise(talk_day_id=…)`), so it stays within that app."""
