"""Reading data: locations (local, S3, uploads), the streaming CSV reader, rearrangement."""
