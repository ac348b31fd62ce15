"""`/openai/v1`: OpenAI's images API in front of the generation service, so tools built on the
OpenAI SDK work with `OpenAI(base_url=f"{origin}/openai/v1", api_key=BANATIE_KEY)`."""
