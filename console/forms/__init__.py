"""Forms: each owns the validation of one page or wizard step."""
