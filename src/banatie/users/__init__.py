"""Console users: accounts, memberships of organizations, server-side sessions, invitations and
password reset tokens. API keys stay the API's only credential; these sign people into the
console (banatie.console)."""
