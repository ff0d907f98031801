"""Role-play: persona state, the session graph, sessions, voices and the reply guard."""
