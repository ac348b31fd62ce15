"""`POST /api/v1/enhance`: the prompt enhancer (pipeline stage 2) on its own."""
