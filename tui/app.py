"""Placeholder until the chat app lands: keeps `rag chat` honest about what is missing."""

from rag.errors import RagError


def run_chat(settings) -> None:
    raise RagError("The chat app is not built yet. Use `rag ask QUESTION` for now.")
