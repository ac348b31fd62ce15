"""Working code for every generation and image: cURL, the SDKs, the OpenAI SDK, MCP, a live URL
and HTML, rendered in one module (`render`) for the API and the console."""
