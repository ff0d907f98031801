"""The team: the database URL seam, the store, who may see what, and the rep and manager use cases."""
