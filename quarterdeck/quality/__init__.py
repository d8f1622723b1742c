"""Data quality: completeness, accuracy rules, freshness, orphans and duplicates, per source.

See docs/quality.md. The modules, in data-flow order: `definitions` (`quality.yml`),
`attribution` (a row's source, rows known as of a day), `row_tests` and the checks built on
them (`completeness`, `accuracy_rules`, `orphans`, `duplicates`), `freshness`, then
`data_quality.data_quality`, which runs them all into a `report.QualityReport`; `rendering`
shows it and `stale_inputs` turns stale sources into health-score warnings.

Nothing is imported here, so reading `quality.yml` when a workspace opens stays light.
"""
