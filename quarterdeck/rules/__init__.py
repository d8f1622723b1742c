"""Rules over account facts: the condition grammar shared by lifecycle stages, segments,
signals and playbook triggers, and the table of facts they are evaluated on."""
