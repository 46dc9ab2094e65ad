"""Wizards' drafts and steps, one module per wizard."""
