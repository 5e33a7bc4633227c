"""Local fakes of outside systems over real HTTP, for the demo and the tests."""
