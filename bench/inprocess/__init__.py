"""Scripts that run inside AgentAuth's own Django process (product venv, bench database and Redis)."""
