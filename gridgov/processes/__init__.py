"""Processes: what spans workflows (visit finding → case, case → mediation referral, the points feed,
talk-day matter → proposal, routines). A process calls workflow apps' services and selectors, never their
models; it sits between insights and the workflow apps (import contract in pyproject.toml)."""
