"""The MCP server (docs/mcp.md): tools, resources and prompts over the same services as REST."""
