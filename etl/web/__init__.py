"""The reading side: reads the summary models, never the build engine."""
