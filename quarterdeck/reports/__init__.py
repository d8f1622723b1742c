"""Reports leaders read: the weekly operating report, QBR decks and their scheduled delivery
(see docs/reports.md). Only the renderers know HTML, PDF, Markdown and PPTX."""
