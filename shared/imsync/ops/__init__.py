"""The operator's command line: plan, apply, status and doctor over the same engine as the functions."""
