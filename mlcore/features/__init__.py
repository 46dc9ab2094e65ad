"""Features: what a fitted recipe turns typed records into, and what the trainers consume."""
