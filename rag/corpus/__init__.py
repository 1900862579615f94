"""Reading articles and cutting them into line-numbered chunks."""
