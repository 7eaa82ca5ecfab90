"""What a person reads: the HTML reports, their text and charts, and a run's summary figure."""
