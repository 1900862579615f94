"""The `rag` command and its shared options. The only package that prints to the terminal (with evals)."""
