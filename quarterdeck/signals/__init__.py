"""Signals: rules over account facts that raise alerts for the people who must act."""
