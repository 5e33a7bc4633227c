"""Local fakes of outside systems over real HTTP: the demo runs against them, and the test
harness imports them from here."""
