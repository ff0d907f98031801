"""Running the app beyond one process: a throwaway PostgreSQL, nginx in front, N instances behind it."""
