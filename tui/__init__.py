"""The Textual chat app for rag."""
