"""The domain services: views call them; they use the models (pyproject.toml [tool.importlinter])."""
