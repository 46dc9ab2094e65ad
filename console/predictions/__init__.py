"""Batch prediction files on the console's side: where they are written, and reading them back
for the page (preview, downloads, invalid lines). The engine writes them (mlcore.predict.batch)."""
