"""The model against evidence: survey-style measures, stylised facts, targets and calibration."""
