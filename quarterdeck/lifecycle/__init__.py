"""Lifecycle: rule-defined stages and segments, onboarding milestones and time to value."""
