"""The pull-request gate: budgets, policy and cost changes of project configs, and their
sticky comments."""
