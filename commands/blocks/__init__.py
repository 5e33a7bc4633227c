"""Block Kit, built in one place per surface with slack_sdk's block models."""
