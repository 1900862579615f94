"""From a question to an answer: retrieval, the prompt, the evidence-first reader, list answers, the pipeline."""
