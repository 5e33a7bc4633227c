"""Adapters to the outside: the Bolt app, HTTP server, CLI, scheduler and Slack ports."""
