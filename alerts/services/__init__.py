"""Services of alerts (writes): rules, the evaluator, incidents, notifications and their delivery."""
