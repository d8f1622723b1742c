"""Revenue retention metrics: MRR movements, the ARR bridge, retention and cohorts."""
