"""Views: parse, authorise (owner only), delegate to services, render."""
