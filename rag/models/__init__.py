"""The models: the embedders, the LLM behind one generator interface, its constrained decoding, the model files and the llama.cpp build."""
