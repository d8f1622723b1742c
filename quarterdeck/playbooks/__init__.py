"""Playbooks: templates of tasks on dates relative to an anchor, started by a stage, a signal,
a condition or by hand."""
