"""The demo company generator: realistic customer-success data with its ground truth."""

from quarterdeck.demo.generator import DemoSummary, generate_demo

__all__ = ["DemoSummary", "generate_demo"]
