"""The domain, Slack-free. Workflows take plain inputs, a DB session and ports."""
