"""ketalog: infusion-session logbook for ketamine clinics."""

__version__ = "0.1.0"
