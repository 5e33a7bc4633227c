"""Local fakes of outside systems, over real HTTP, for tests and the demo."""
