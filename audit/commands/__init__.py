"""One module per CLI command; each imports torch/libcst only inside its function body."""
