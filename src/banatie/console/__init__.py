"""The web console at /console: server-rendered pages (Jinja2, a little plain JavaScript) for
people signed in with a console account. Every action calls the same services as the REST API,
for the project chosen in the URL (`/console/{org}/{project}/…`)."""
